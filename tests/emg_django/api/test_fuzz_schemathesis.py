"""Schemathesis against the API's own OpenAPI schema: no 5xx, every response as documented.

The schema is loaded from the running Django WSGI app (``emg_django.wsgi.application``) and each
operation is exercised in-process, inside the test's transaction, over a world of public,
private and suppressed objects (``world``). Positive and negative (schema-violating) inputs are
generated; every response must not be a 5xx, must have a documented status code and content
type, and its body must validate against the documented schema. Runs are bounded and
derandomised so CI is repeatable.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings

from tests.emg_django.api.conftest import API, OWNER, World, bearer

pytestmark = pytest.mark.django_db

#: Per operation and per caller; ~25 operations × 2 callers stay within about a minute.
MAX_EXAMPLES = 60

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def webin_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Login endpoints ask Webin: answer locally (a fixed test account) instead of over the net."""
    monkeypatch.setattr(
        "emg_django.api.auth.check_credentials",
        lambda username, password: username == OWNER and password == "correct horse",
    )


from emg_django.wsgi import application  # noqa: E402

schema = schemathesis.openapi.from_wsgi(f"{API}openapi.json", application)


@pytest.fixture(autouse=True)
def _data(world: World, webin_offline: None) -> Iterator[None]:
    """The world every fuzzed request runs against, in the test's transaction.

    Requests go straight to the WSGI app, whose request signals would close the test's
    connection (and its transaction) after each response; Django's test client unhooks them
    in the same way.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_anonymously(case) -> None:
    case.call_and_validate()


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema_with_a_webin_token(case) -> None:
    case.call_and_validate(headers=bearer(OWNER))
