"""``/samples/``, ``/runs/``, ``/assemblies/``: lists, filters, details and nested lists."""

from __future__ import annotations

import pytest

from tests.emg_django.api.conftest import MARINE, SOIL, World, url

pytestmark = pytest.mark.django_db

SAMPLE_FIELDS = {"accession", "ena_accessions", "sample_title", "biome", "updated_at"}
RUN_FIELDS = {
    "accession",
    "experiment_type",
    "instrument_model",
    "instrument_platform",
    "sample_accession",
    "study_accession",
}
ASSEMBLY_DETAIL_FIELDS = {
    "accession",
    "updated_at",
    "run_accession",
    "sample_accession",
    "reads_study_accession",
    "assembly_study_accession",
    "assembler_name",
    "assembler_version",
    "metadata",
    "status",
}


def items(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["items"]


def accessions(response) -> list[str]:
    return [item["accession"] for item in items(response)]


# -- samples -----------------------------------------------------------------------------------


def test_sample_list_shape(client, world: World) -> None:
    body = client.get(url("samples/"), {"order": "accession"}).json()
    assert body["count"] == 4
    first = body["items"][0]
    assert set(first) == SAMPLE_FIELDS
    assert first["accession"] == "SAMEA10011"
    assert first["ena_accessions"] == ["SAMEA10011", "ERS10011"]
    assert first["sample_title"] == "Sample SAMEA10011"
    assert first["biome"] == {"biome_name": "Marine", "lineage": MARINE}


def test_sample_filters_and_order(client, world: World) -> None:
    assert accessions(client.get(url("samples/"), {"order": "-accession"})) == [
        "SAMEA20012",
        "SAMEA20011",
        "SAMEA10012",
        "SAMEA10011",
    ]
    assert accessions(
        client.get(url("samples/"), {"biome_lineage": SOIL, "order": "accession"})
    ) == ["SAMEA20011", "SAMEA20012"]
    assert accessions(client.get(url("samples/"), {"search": "ers10012"})) == ["SAMEA10012"]
    assert accessions(client.get(url("samples/"), {"search": "SAMEA20011"})) == ["SAMEA20011"]
    assert accessions(
        client.get(url("samples/"), {"search": "sample samea1001", "order": "accession"})
    ) == ["SAMEA10011", "SAMEA10012"]
    assert accessions(client.get(url("samples/"), {"search": "SAMEA30011"})) == []


def test_sample_detail(client, world: World) -> None:
    for accession in ("SAMEA10011", "ERS10011"):
        body = client.get(url(f"samples/{accession}")).json()
        assert set(body) == SAMPLE_FIELDS | {"metadata", "studies"}
        assert body["accession"] == "SAMEA10011"
        assert body["metadata"] == {"depth": "1"}
        assert [study["accession"] for study in body["studies"]] == [world.public.study.accession]
        assert body["studies"][0]["title"] == "Marine sediment metagenomes"


def test_sample_detail_lists_only_visible_studies(client, world: World) -> None:
    world.public.samples[0].studies.add(world.private.study)
    body = client.get(url("samples/SAMEA10011")).json()
    assert [study["accession"] for study in body["studies"]] == [world.public.study.accession]


def test_sample_nested_runs_and_assemblies(client, world: World) -> None:
    [run] = items(client.get(url("samples/SAMEA10011/runs/")))
    assert run["accession"] == "ERR10011"
    assert accessions(client.get(url("samples/SAMEA10011/assemblies/"))) == ["ERZ10011"]
    assert accessions(client.get(url("samples/SAMEA10012/assemblies/"))) == []


# -- runs --------------------------------------------------------------------------------------


def test_run_list_shape(client, world: World) -> None:
    body = client.get(url("runs/")).json()
    assert body["count"] == 4
    run = body["items"][0]
    assert set(run) == RUN_FIELDS
    assert run == {
        "accession": "ERR10011",
        "experiment_type": "METAG",
        "instrument_model": "Illumina NovaSeq 6000",
        "instrument_platform": "ILLUMINA",
        "sample_accession": "SAMEA10011",
        "study_accession": world.public.study.accession,
    }


def test_run_filters(client, world: World) -> None:
    assert accessions(client.get(url("runs/"), {"has_experiment_type": "AMPLI"})) == [
        "ERR10012",
        "ERR20012",
    ]
    assert accessions(client.get(url("runs/"), {"has_experiment_type": "METAT"})) == []
    assert accessions(
        client.get(url("runs/"), {"study_accession": world.soil.study.accession})
    ) == ["ERR20011", "ERR20012"]
    assert accessions(client.get(url("runs/"), {"order": "-accession"}))[0] == "ERR20012"


def test_run_detail(client, world: World) -> None:
    body = client.get(url("runs/ERR10012")).json()
    assert set(body) == RUN_FIELDS | {"sample", "study"}
    assert body["experiment_type"] == "AMPLI"
    assert body["instrument_model"] == "Illumina MiSeq"
    assert body["sample"]["accession"] == "SAMEA10012"
    assert body["study"]["accession"] == world.public.study.accession
    assert body["study"]["biome"]["lineage"] == MARINE


def test_run_nested_analyses_and_assemblies(client, world: World) -> None:
    [analysis] = items(client.get(url("runs/ERR10011/analyses/")))
    assert analysis["accession"] == world.public.run_analysis.accession
    assert accessions(client.get(url("runs/ERR10011/assemblies/"))) == ["ERZ10011"]
    assert accessions(client.get(url("runs/ERR10012/assemblies/"))) == []


# -- assemblies --------------------------------------------------------------------------------


def test_assembly_list(client, world: World) -> None:
    body = client.get(url("assemblies/")).json()
    assert body["count"] == 2
    assert [set(item) for item in body["items"]] == [{"accession", "updated_at"}] * 2
    assert [item["accession"] for item in body["items"]] == ["ERZ10011", "ERZ20011"]


def test_assembly_detail(client, world: World) -> None:
    body = client.get(url("assemblies/ERZ10011")).json()
    assert set(body) == ASSEMBLY_DETAIL_FIELDS
    assert body["run_accession"] == "ERR10011"
    assert body["sample_accession"] == "SAMEA10011"
    assert body["assembly_study_accession"] == world.public.study.accession
    assert body["reads_study_accession"] is None
    assert (body["assembler_name"], body["assembler_version"]) == ("metaspades", "3.15.3")
    assert body["status"] == {} and body["metadata"] == {}


def test_assembly_nested_analyses(client, world: World) -> None:
    [analysis] = items(client.get(url("assemblies/ERZ10011/analyses")))
    assert analysis["accession"] == world.public.assembly_analysis.accession
    assert analysis["assembly"]["accession"] == "ERZ10011"
