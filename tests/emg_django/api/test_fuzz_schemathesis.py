"""Schemathesis against the API's own OpenAPI schema: no 5xx, every response as documented.

The schema is fetched from the Django WSGI app (``emg_django.wsgi.application``) and every
operation is exercised in-process, inside the test's transaction, over a world of public,
private and suppressed objects (``world``), anonymously and with a Webin owner's token.
Schemathesis generates schema-valid and schema-violating requests and checks each response:
not a 5xx, a documented status code and content type, a body valid against the documented
schema, schema-violating input rejected with a 4xx, schema-valid input not rejected with a 422,
a missing required token rejected. Bounded (``MAX_EXAMPLES`` per operation and caller) and
derandomised, so CI runs are repeatable.

pytest 9 dropped the ``_nodeid`` attribute schemathesis' lazy ``from_fixture`` loader sets, so
the schema is loaded eagerly here (the openapi view needs no database).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

from emg_django.api.security import OptionalWebinAuth, WebinAuth, issue_token
from emg_django.wsgi import application
from tests.emg_django.api.conftest import API, OWNER, World

pytestmark = pytest.mark.django_db

#: Examples per operation and caller: ~27 operations × 2 callers in about a minute on 2 cores.
MAX_EXAMPLES = 40
SEED = 20260407
SCHEMA_PATH = f"{API}openapi.json"

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # No shrinking: a failure is reported as found (its curl command reproduces it).
    phases=[Phase.explicit, Phase.generate],
    # The world is made once per operation, not per example, on purpose (read-only data).
    suppress_health_check=list(HealthCheck),
)


def _config(**extra: object) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "checks": {
                # The API answers 400 (with a message) to values the schema cannot fully
                # describe, such as an accession of the wrong shape; 422 keeps its meaning:
                # a request the schema itself rejects. So schema-valid input may get a 400.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409"]
                },
            },
            **extra,
        }
    )


#: Anonymous requests (schemathesis still sends malformed tokens and Basic credentials).
anonymous_schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application, config=_config())

#: The same operations with a valid bearer token of the owner of the world's private tree.
_OWNER_TOKEN = issue_token(OWNER).token
owner_schema = schemathesis.openapi.from_wsgi(
    SCHEMA_PATH,
    application,
    config=_config(
        auth={
            "openapi": {
                OptionalWebinAuth.__name__: {"bearer": _OWNER_TOKEN},
                WebinAuth.__name__: {"bearer": _OWNER_TOKEN},
            }
        }
    ),
)


@pytest.fixture(autouse=True)
def _data(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The world every fuzzed request runs against, in the test's transaction.

    Requests go straight to the WSGI app, whose request signals would close the test's
    connection (and so its transaction) after each response: unhook them, as Django's test
    client does. Logins ask Webin: answer locally instead of over the network.
    """
    monkeypatch.setattr(
        "emg_django.api.auth.check_credentials",
        lambda username, password: username == OWNER and password == "correct horse",
    )
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@anonymous_schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_anonymously(case) -> None:
    case.call_and_validate()


@owner_schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_with_a_webin_token(case) -> None:
    case.call_and_validate()


# What the fuzzing found in the schema, fixed in the API (regressions, without fuzzing).


def _operations() -> dict[str, dict]:
    return {
        f"{method.upper()} {path.removeprefix(API)}": operation
        for path, methods in anonymous_schema.raw_schema["paths"].items()
        for method, operation in methods.items()
    }


def test_public_endpoints_document_the_token_as_optional_and_401() -> None:
    for name, operation in _operations().items():
        security = operation.get("security")
        if name.startswith(
            ("GET studies", "GET samples", "GET runs", "GET analyses", "GET biomes")
        ):
            assert {} in security and {OptionalWebinAuth.__name__: []} in security, name
        if name == "GET my-data/studies/":
            assert security == [{WebinAuth.__name__: []}], name
        if security:
            assert "401" in operation["responses"], name


def test_bodies_that_are_not_json_and_csrf_failures_are_documented() -> None:
    operations = _operations()
    for name in ("auth/login", "auth/sliding", "auth/sliding/refresh", "auth/verify"):
        assert "400" in operations[f"POST {name}"]["responses"], name
    for name in ("ingest", "analyse"):
        assert "403" in operations[f"POST admin/studies/{{accession}}/{name}"]["responses"]


def test_biome_lineage_pattern_is_documented() -> None:
    parameters = _operations()["GET studies/"]["parameters"]
    (lineage,) = [parameter for parameter in parameters if parameter["name"] == "biome_lineage"]
    assert "pattern" in json.dumps(lineage["schema"])
