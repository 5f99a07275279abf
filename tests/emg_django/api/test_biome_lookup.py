"""The API's per-process copy of the biome table: new biomes are seen at once, edited ones
after the copy's time to live, and items need no join to the biome table."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from emg_django.analyses.models import Biome
from emg_django.api import biome_lookup
from tests.factories import make_study

pytestmark = pytest.mark.django_db


def _biome_of(client: Client, accession: str) -> dict | None:
    return client.get(f"/api/v2/studies/{accession}").json()["biome"]


def test_a_new_biome_is_seen_at_once_and_an_edit_after_the_ttl(monkeypatch) -> None:
    client = Client()
    marine = make_study("PRJEB1001", biome="root:Environmental:Aquatic:Marine")
    assert _biome_of(client, marine.accession)["lineage"] == "root:Environmental:Aquatic:Marine"
    # A biome made after the copy was loaded: a miss reloads it.
    soil = make_study("PRJEB1002", biome="root:Environmental:Terrestrial:Soil")
    assert _biome_of(client, soil.accession) == {
        "biome_name": "Soil",
        "lineage": "root:Environmental:Terrestrial:Soil",
    }
    Biome.objects.filter(lineage="root:Environmental:Terrestrial:Soil").update(biome_name="Dirt")
    assert _biome_of(client, soil.accession)["biome_name"] == "Soil"  # the copy, within its TTL
    monkeypatch.setattr(biome_lookup, "BIOME_TTL_SECONDS", 0.0)
    assert _biome_of(client, soil.accession)["biome_name"] == "Dirt"


def test_items_do_not_join_the_biome_table() -> None:
    client = Client()
    study = make_study(biome="root:Host-associated:Human")
    client.get("/api/v2/studies/")  # loads the copy
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v2/studies/").json()
    assert body["items"][0]["biome"]["lineage"] == "root:Host-associated:Human"
    assert study.accession in {item["accession"] for item in body["items"]}
    assert not any("analyses_biome" in q["sql"] for q in queries.captured_queries)
