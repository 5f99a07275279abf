"""Bad input is a 4xx ``{"detail": …}`` naming the problem, never a 500, on every endpoint."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from tests.emg_django.api.conftest import World, bearer, url

pytestmark = pytest.mark.django_db

NASTY = [
    " ",
    "'",
    '"',
    "' OR 1=1 --",
    "'; DROP TABLE analyses_study; --",
    "%",
    "%%",
    "_",
    "\\",
    "*",
    "\x00",
    "a\x00b",
    "\t\n",
    "\r\n",
    "ü™🧬",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "x" * 5000,
    "../../etc/passwd",
    "a/b",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "null",
    "-1",
    "0",
    "1e309",
    "NaN",
    "MGYS" + "9" * 30,
    "MGYA" + "9" * 36,
    "MGYS-0000001",
    "PRJEB" + "9" * 40,
    "SAMEA",
    "ERR",
    "root:",
    "root::x",
    ":",
    "V6'",
    "METAG ",
    "[]",
    "{}",
]

#: Every path with a ``{x}`` slot for the nasty value, built from the public tree.
PATHS = [
    "studies/{x}",
    "studies/insdc/{x}",
    "studies/{x}/analyses/",
    "studies/{x}/samples/",
    "studies/{x}/publications/",
    "samples/{x}",
    "samples/{x}/runs/",
    "samples/{x}/assemblies/",
    "runs/{x}",
    "runs/{x}/analyses/",
    "runs/{x}/assemblies/",
    "assemblies/{x}",
    "assemblies/{x}/analyses",
    "analyses/{x}",
    "analyses/{x}/annotations",
    "analyses/{x}/annotations/pfams",
    "analyses/{analysis}/annotations/{x}",
]

#: Every list and the parameters it takes.
QUERY_PARAMS = {
    "studies/": (
        "search",
        "biome_lineage",
        "has_analyses_from_pipeline",
        "order",
        "page",
        "page_size",
    ),
    "samples/": ("search", "biome_lineage", "order", "page"),
    "runs/": ("has_experiment_type", "study_accession", "order", "page_size"),
    "assemblies/": ("page",),
    "analyses/": ("pipeline_version", "experiment_type", "study_accession", "order", "page"),
    "biomes/": ("biome_lineage", "max_depth", "page"),
    "studies/{study}/analyses/": ("page", "page_size"),
    "analyses/{analysis}/annotations/taxonomies__ssu": ("page", "page_size"),
}


def _check(response, where: str) -> None:
    assert response.status_code < 500, (where, response.content[:300])
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["detail"], str) and body["detail"], where


def test_no_path_answers_500_to_nasty_accessions(client, world: World) -> None:
    analysis = world.public.run_analysis.accession
    for template in PATHS:
        for value in NASTY:
            path = template.format(x=quote(value, safe=""), analysis=analysis)
            response = client.get(url(path))
            _check(response, path)
            assert response.status_code in (400, 404), (path, response.status_code)


def test_no_query_parameter_answers_500_to_nasty_values(client, world: World) -> None:
    names = {"study": world.public.study.accession, "analysis": world.public.run_analysis.accession}
    for template, params in QUERY_PARAMS.items():
        path = url(template.format(**names))
        for param in params:
            for value in NASTY:
                _check(client.get(path, {param: value}), f"{path}?{param}={value[:20]!r}")


def test_nasty_tokens_and_bodies(client, world: World) -> None:
    for value in NASTY[:20]:
        response = client.get(url("studies/"), headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 401, value
        _check(
            client.post(url("auth/verify"), {"token": value}, content_type="application/json"),
            value,
        )
    for body in ("", "{", "[]", '{"username": 1}', '{"username": "a"}', "\x00"):
        response = client.post(url("auth/login"), body, content_type="application/json")
        assert response.status_code in (400, 422), body
        _check(response, body)


@pytest.mark.parametrize(
    ("path", "params", "status", "fragment"),
    [
        ("studies/XYZ", {}, 400, "malformed accession 'XYZ': expected MGYS followed by 8 digits"),
        ("analyses/MGYS00000001", {}, 400, "expected MGYA"),
        ("runs/SAMEA1", {}, 400, "malformed run accession 'SAMEA1'"),
        ("samples/ERR1", {}, 400, "malformed sample accession"),
        ("assemblies/ERR1", {}, 400, "malformed assembly accession"),
        (
            "runs/",
            {"has_experiment_type": "FOO"},
            422,
            "has_experiment_type: unknown value; expected one of",
        ),
        (
            "studies/",
            {"has_analyses_from_pipeline": "V7"},
            422,
            "has_analyses_from_pipeline: unknown value",
        ),
        ("analyses/", {"pipeline_version": "v6"}, 422, "pipeline_version: unknown value"),
        ("studies/", {"order": "title"}, 422, "order: Input should be"),
        (
            "studies/",
            {"search": "x" * 201},
            422,
            "search: String should have at most 200 characters",
        ),
        ("studies/", {"search": "a\x00b"}, 400, "search: control characters are not allowed"),
        (
            "studies/",
            {"biome_lineage": "Environmental:Aquatic"},
            422,
            "biome_lineage: Value error, expected a lineage",
        ),
        ("biomes/", {"max_depth": 0}, 422, "max_depth: Input should be greater than or equal to 1"),
        ("runs/", {"study_accession": "PRJEB1"}, 400, "malformed accession 'PRJEB1'"),
        ("nowhere/", {}, 404, "no endpoint at nowhere/"),
    ],
)
def test_bad_input_messages(
    client, world: World, path: str, params: dict, status: int, fragment: str
) -> None:
    response = client.get(url(path), params)
    assert response.status_code == status, response.content
    assert fragment in response.json()["detail"]


def test_unknown_enum_message_lists_the_values(client, world: World) -> None:
    detail = client.get(url("runs/"), {"has_experiment_type": "FOO"}).json()["detail"]
    for code in ("AMPLI", "ASSEM", "HYASS", "LRASS", "METAB", "METAG", "METAT", "UNKNO"):
        assert code in detail


def test_expired_or_malformed_credentials_are_401_on_public_endpoints(client, world: World) -> None:
    response = client.get(url("studies/"), headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert "expected 'Bearer <token>'" in response.json()["detail"]
    assert client.get(url("studies/"), headers=bearer("Webin-1")).status_code == 200


def test_nul_in_credentials_and_session_cookies_is_not_a_500(client, world: World) -> None:
    """Postgres text cannot hold NUL: such credentials once reached a user or session lookup."""
    basic = "Basic " + base64.b64encode(b"curator\x00:secret").decode()
    launch = url(f"admin/studies/{world.public.study.accession}/ingest")
    response = client.post(
        launch, {}, content_type="application/json", headers={"Authorization": basic}
    )
    assert response.status_code == 401, response.content
    # A quoted cookie may encode NUL as an octal escape: plain ASCII on the wire.
    cookie = '"abcdefgh\\000ijkl"'
    for path in (url("studies/"), url(f"studies/{world.public.study.accession}")):
        response = client.get(path, HTTP_COOKIE=f"sessionid={cookie}")
        assert response.status_code == 200, response.content
    response = client.post(
        launch, {}, content_type="application/json", HTTP_COOKIE=f"sessionid={cookie}"
    )
    assert response.status_code == 401, response.content
