"""The OpenAPI schema and Swagger UI: every path, typed responses, descriptions, enums."""

from __future__ import annotations

import pytest

from tests.emg_django.api.conftest import url

API_MD_PATHS = {
    "studies/",
    "studies/{accession}",
    "studies/insdc/{accession}",
    "studies/{accession}/analyses/",
    "studies/{accession}/samples/",
    "studies/{accession}/publications/",
    "samples/",
    "samples/{accession}",
    "samples/{accession}/runs/",
    "samples/{accession}/assemblies/",
    "runs/",
    "runs/{accession}",
    "runs/{accession}/analyses/",
    "runs/{accession}/assemblies/",
    "assemblies/",
    "assemblies/{accession}",
    "assemblies/{accession}/analyses",
    "analyses/",
    "analyses/{accession}",
    "analyses/{accession}/annotations",
    "analyses/{accession}/annotations/{annotation_type}",
    "biomes/",
    "my-data/studies/",
    "auth/sliding",
    "auth/sliding/refresh",
    "auth/verify",
    "auth/login",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    from django.test import Client

    response = Client().get(url("openapi.json"))
    assert response.status_code == 200
    return response.json()


ADMIN_PATHS = {"admin/studies/{accession}/analyse", "admin/studies/{accession}/ingest"}
#: Files of studies and analyses (private ones to their owner): binary answers, not JSON.
DOWNLOAD_PATHS = {"studies/{accession}/downloads/{alias}", "analyses/{accession}/downloads/{alias}"}


def test_every_path_is_documented(schema: dict) -> None:
    paths = {path.removeprefix(url("")) for path in schema["paths"]}
    # API.md's paths, plus the staff actions this platform adds.
    assert paths == API_MD_PATHS | ADMIN_PATHS | DOWNLOAD_PATHS


def test_every_operation_has_summary_description_tags_and_typed_responses(schema: dict) -> None:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert (
                operation.get("summary") and operation.get("description") and operation.get("tags")
            ), where
            if path.removeprefix(url("")) in DOWNLOAD_PATHS:
                success = {"200", "302"}
                assert "application/octet-stream" in operation["responses"]["200"]["content"]
            else:
                created = "201" if "201" in operation["responses"] else "200"
                ok = operation["responses"][created]["content"]["application/json"]["schema"]
                assert "$ref" in ok, where
                success = {created}
            assert success <= set(operation["responses"]), where
            errors = set(operation["responses"]) - success
            assert errors, where
            for status in errors:
                ref = operation["responses"][status]["content"]["application/json"]["schema"][
                    "$ref"
                ]
                assert ref.endswith("/ErrorSchema"), where


def test_enums_are_the_public_apis(schema: dict) -> None:
    components = schema["components"]["schemas"]
    assert components["PipelineVersion"]["enum"] == [
        "V1",
        "V2",
        "V3",
        "V4",
        "V4.1",
        "V5",
        "V6",
        "V6.1",
    ]
    assert components["ExperimentType"]["enum"] == [
        "AMPLI",
        "ASSEM",
        "HYASS",
        "LRASS",
        "METAB",
        "METAG",
        "METAT",
        "UNKNO",
    ]
    assert "Analysis RO Crate" in components["DownloadType"]["enum"]
    assert components["DownloadFileType"]["enum"] == [
        "fasta",
        "tsv",
        "biom",
        "csv",
        "json",
        "svg",
        "tree",
        "html",
        "gff",
        "other",
    ]
    list_item = components["StudyListItem"]["properties"]
    assert set(list_item) == {
        "accession",
        "ena_accessions",
        "title",
        "biome",
        "updated_at",
        "metadata",
    }


def test_bearer_security_is_declared(schema: dict) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())


def test_swagger_ui(client) -> None:
    response = client.get(url("docs"))
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert url("openapi.json").encode() in response.content
