"""``/analyses/`` (list, detail, annotations) and ``/biomes/``."""

from __future__ import annotations

import pytest

from tests.emg_django.api.conftest import PFAMS, SSU, World, url

pytestmark = pytest.mark.django_db

LIST_FIELDS = {
    "accession",
    "study_accession",
    "experiment_type",
    "run",
    "sample",
    "assembly",
    "pipeline_version",
}
DETAIL_FIELDS = LIST_FIELDS | {
    "read_run",
    "quality_control_summary",
    "downloads",
    "results_dir",
    "metadata",
}


def accessions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["accession"] for item in response.json()["items"]]


def test_list_shape(client, world: World) -> None:
    body = client.get(url("analyses/")).json()
    assert body["count"] == 6
    by_accession = {item["accession"]: item for item in body["items"]}
    run_analysis = by_accession[world.public.run_analysis.accession]
    assert set(run_analysis) == LIST_FIELDS
    assert run_analysis["study_accession"] == world.public.study.accession
    assert run_analysis["experiment_type"] == "METAG"
    assert run_analysis["pipeline_version"] == "V6"
    assert run_analysis["run"]["accession"] == "ERR10011"
    assert run_analysis["run"]["sample_accession"] == "SAMEA10011"
    assert run_analysis["sample"]["accession"] == "SAMEA10011"
    assert run_analysis["sample"]["biome"]["biome_name"] == "Marine"
    assert run_analysis["assembly"] is None
    assembly_analysis = by_accession[world.public.assembly_analysis.accession]
    assert assembly_analysis["run"] is None
    assert assembly_analysis["experiment_type"] == "ASSEM"
    assert set(assembly_analysis["assembly"]) == {"accession", "updated_at"}


def test_list_filters_and_order(client, world: World) -> None:
    v5 = accessions(client.get(url("analyses/"), {"pipeline_version": "V5"}))
    assert v5 == [world.soil.analyses[1].accession, world.public.analyses[1].accession]
    assert accessions(
        client.get(url("analyses/"), {"experiment_type": "ASSEM", "order": "accession"})
    ) == [world.public.assembly_analysis.accession, world.soil.assembly_analysis.accession]
    study = accessions(
        client.get(url("analyses/"), {"study_accession": world.public.study.accession})
    )
    assert set(study) == {analysis.accession for analysis in world.public.analyses}
    ascending = accessions(client.get(url("analyses/"), {"order": "accession"}))
    assert ascending == sorted(ascending)


def test_detail(client, world: World) -> None:
    analysis = world.public.run_analysis
    body = client.get(url(f"analyses/{analysis.accession}")).json()
    assert set(body) == DETAIL_FIELDS
    assert [run["accession"] for run in body["read_run"]] == ["ERR10011"]
    assert body["quality_control_summary"] == {"before_filtering": {"total_reads": 100}}
    assert body["results_dir"] == analysis.results_dir
    [download] = body["downloads"]
    assert download["alias"] == "ERR10011_SILVA-SSU.tsv"
    assert download["url"] == (
        f"http://127.0.0.1:8000/results/{analysis.results_dir}/taxonomy-summary/SILVA-SSU/ERR10011_SILVA-SSU.tsv"
    )
    assert "path" not in download and "annotations" not in body


def test_detail_of_an_assembly_analysis_lists_the_assembled_runs(client, world: World) -> None:
    body = client.get(url(f"analyses/{world.public.assembly_analysis.accession}")).json()
    assert [run["accession"] for run in body["read_run"]] == ["ERR10011"]
    assert body["quality_control_summary"] is None


def test_annotations(client, world: World) -> None:
    body = client.get(url(f"analyses/{world.public.run_analysis.accession}/annotations")).json()
    assert set(body) == DETAIL_FIELDS | {"annotations"}
    assert set(body["annotations"]) == {"taxonomies__ssu", "pfams"}
    assert [row["organism"] for row in body["annotations"]["taxonomies__ssu"]] == [
        row["organism"] for row in SSU
    ]
    assert body["annotations"]["pfams"][0] == {**PFAMS[0], "organism": None}


def test_annotations_of_one_type_are_paginated(client, world: World) -> None:
    path = url(f"analyses/{world.public.run_analysis.accession}/annotations/taxonomies__ssu")
    body = client.get(path, {"page_size": 2}).json()
    assert body["count"] == 3
    assert body["items"] == [{**row, "description": None, "accession": None} for row in SSU[:2]]
    assert client.get(path, {"page_size": 2, "page": 2}).json()["items"][0]["count"] == 57
    assert client.get(path, {"page_size": 2, "page": 3}).status_code == 404


def test_annotation_types_absent_unknown_or_malformed(client, world: World) -> None:
    base = f"analyses/{world.public.run_analysis.accession}/annotations/"
    absent = client.get(url(base + "taxonomies__lsu"))
    assert absent.status_code == 404
    assert "has no taxonomies__lsu annotations" in absent.json()["detail"]
    unknown = client.get(url(base + "go_slims"))
    assert unknown.status_code == 404
    assert "unknown annotation type 'go_slims'" in unknown.json()["detail"]
    malformed = client.get(url(base + "Tax;DROP"))
    assert malformed.status_code == 400
    assert "malformed annotation type" in malformed.json()["detail"]


def test_biomes(client, world: World) -> None:
    body = client.get(url("biomes/"), {"page_size": 250}).json()
    lineages = [item["lineage"] for item in body["items"]]
    assert body["count"] == len(lineages) == 6
    assert lineages == sorted(lineages)
    assert body["items"][0] == {"biome_name": "root", "lineage": "root"}
    under = client.get(url("biomes/"), {"biome_lineage": "root:Environmental:Aquatic"}).json()
    assert [item["lineage"] for item in under["items"]] == [
        "root:Environmental:Aquatic",
        "root:Environmental:Aquatic:Marine",
    ]
    shallow = client.get(url("biomes/"), {"max_depth": 2}).json()
    assert [item["lineage"] for item in shallow["items"]] == ["root", "root:Environmental"]
    both = client.get(
        url("biomes/"), {"max_depth": 3, "biome_lineage": "root:Environmental"}
    ).json()
    assert both["count"] == 3
