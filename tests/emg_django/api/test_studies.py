"""``/studies/``: list, filters, order, detail, INSDC lookup and nested lists."""

from __future__ import annotations

import datetime as dt

import pytest

from emg_django.analyses.models import Study
from tests.emg_django.api.conftest import MARINE, SOIL, World, url

pytestmark = pytest.mark.django_db

STUDY_FIELDS = {"accession", "ena_accessions", "title", "biome", "updated_at", "metadata"}


def accessions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["accession"] for item in response.json()["items"]]


def test_list_shape_and_visibility(client, world: World) -> None:
    body = client.get(url("studies/")).json()
    assert body["count"] == 2
    assert {item["accession"] for item in body["items"]} == {
        world.public.study.accession,
        world.soil.study.accession,
    }
    item = next(item for item in body["items"] if item["accession"] == world.public.study.accession)
    assert set(item) == STUDY_FIELDS
    assert item["ena_accessions"] == ["PRJEB1001", "ERP1001"]
    assert item["title"] == "Marine sediment metagenomes"
    assert item["biome"] == {"biome_name": "Marine", "lineage": MARINE}
    assert item["metadata"] == {"centre": "EMBL-EBI"}
    dt.datetime.fromisoformat(item["updated_at"])


def test_default_order_is_newest_first_and_order_param(client, world: World) -> None:
    newest_first = [world.soil.study.accession, world.public.study.accession]
    assert accessions(client.get(url("studies/"))) == newest_first
    assert accessions(client.get(url("studies/"), {"order": "accession"})) == newest_first[::-1]
    assert accessions(client.get(url("studies/"), {"order": "-accession"})) == newest_first
    Study.objects.filter(pk=world.public.study.pk).update(
        updated_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    )
    assert accessions(client.get(url("studies/"), {"order": "-updated_at"})) == newest_first[::-1]
    assert accessions(client.get(url("studies/"), {"order": "updated_at"})) == newest_first


@pytest.mark.parametrize(
    ("lineage", "expected"),
    [
        ("root:Environmental", {"public", "soil"}),
        ("root:Environmental:Aquatic", {"public"}),
        (SOIL, {"soil"}),
        ("root:Host-associated", set()),
        ("root:Environmental:Aquatic:", {"public"}),
    ],
)
def test_biome_lineage_filter(client, world: World, lineage: str, expected: set[str]) -> None:
    wanted = {getattr(world, name).study.accession for name in expected}
    assert set(accessions(client.get(url("studies/"), {"biome_lineage": lineage}))) == wanted


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("PRJEB1001", "public"),
        ("erp2001", "soil"),
        ("sediment", "public"),
        ("GRASSLAND", "soil"),
        ("PRJEB3001", None),
        ("withdrawn", None),
        ("nothing like it", None),
    ],
)
def test_search_by_accession_or_title(
    client, world: World, term: str, expected: str | None
) -> None:
    wanted = [getattr(world, expected).study.accession] if expected else []
    assert accessions(client.get(url("studies/"), {"search": term})) == wanted


def test_search_by_mgys(client, world: World) -> None:
    accession = world.soil.study.accession
    assert accessions(client.get(url("studies/"), {"search": accession.lower()})) == [accession]
    assert accessions(client.get(url("studies/"), {"search": world.private.study.accession})) == []


def test_search_ena_accession_is_exact_not_a_prefix(client, world: World) -> None:
    assert accessions(client.get(url("studies/"), {"search": "PRJEB100"})) == []


@pytest.mark.parametrize(
    ("version", "expected"),
    [("V6", {"public", "soil"}), ("V5", {"public", "soil"}), ("V4.1", set())],
)
def test_has_analyses_from_pipeline(client, world: World, version: str, expected: set[str]) -> None:
    # Only the soil study's V6 analyses are removed, so V6 must narrow the list.
    world.soil.analyses[0].delete()
    world.soil.analyses[2].delete()
    if version == "V6":
        expected = {"public"}
    wanted = {getattr(world, name).study.accession for name in expected}
    assert (
        set(accessions(client.get(url("studies/"), {"has_analyses_from_pipeline": version})))
        == wanted
    )


def test_detail(client, world: World) -> None:
    study = world.public.study
    response = client.get(url(f"studies/{study.accession}"))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == STUDY_FIELDS | {"downloads", "first_accession"}
    assert body["first_accession"] == "PRJEB1001"
    [download] = body["downloads"]
    assert download == {
        "alias": "PRJEB1001_summary.tsv",
        "file_type": "tsv",
        "download_type": "Taxonomic analysis",
        "short_description": "SSU taxonomy",
        "long_description": "Organism counts against SILVA SSU",
        "download_group": "taxonomies.closed_reference.ssu",
        "file_size_bytes": 4096,
        "index_files": None,
        "url": f"http://127.0.0.1:8000/results/{study.results_dir}/study-summaries/summary.tsv",
    }


def test_detail_accepts_lower_case_and_404s_unknown(client, world: World) -> None:
    assert client.get(url(f"studies/{world.public.study.accession.lower()}")).status_code == 200
    response = client.get(url("studies/MGYS99999999"))
    assert response.status_code == 404
    assert response.json() == {"detail": "No study MGYS99999999"}


def test_insdc_lookup(client, world: World) -> None:
    for ena_accession in ("PRJEB1001", "ERP1001", "erp1001"):
        response = client.get(url(f"studies/insdc/{ena_accession}"))
        assert response.status_code == 200
        assert response.json() == {"accession": world.public.study.accession}
    assert client.get(url("studies/insdc/PRJEB777")).status_code == 404
    response = client.get(url("studies/insdc/MGYS00000001"))
    assert response.status_code == 400
    assert "malformed ENA study accession" in response.json()["detail"]


def test_nested_analyses(client, world: World) -> None:
    response = client.get(url(f"studies/{world.public.study.accession}/analyses/"))
    assert {item["accession"] for item in response.json()["items"]} == {
        a.accession for a in world.public.analyses
    }
    assert response.json()["count"] == 3


def test_nested_samples(client, world: World) -> None:
    response = client.get(url(f"studies/{world.soil.study.accession}/samples/"))
    assert response.json()["count"] == 2
    assert {item["accession"] for item in response.json()["items"]} == {"SAMEA20011", "SAMEA20012"}


def test_nested_publications_are_an_empty_page(client, world: World) -> None:
    response = client.get(url(f"studies/{world.public.study.accession}/publications/"))
    assert response.status_code == 200
    assert response.json() == {"count": 0, "items": []}
    assert (
        client.get(
            url(f"studies/{world.public.study.accession}/publications/"), {"page": 2}
        ).status_code
        == 404
    )
