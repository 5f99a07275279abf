"""The ENA sync sensor: known studies whose ENA state changed get an ingest run, once."""

from __future__ import annotations

import dagster as dg
import pytest

from emg_assets.ena.assets import INGEST_ASSETS
from emg_django.analyses.models import Study
from emg_django.config import SensorsConfig
from sensors.ena_sync import build_ena_sync_sensor
from tests.fakes.ena.datasets import AMPLICON_STUDY, HOLOFOOD_STUDY
from tests.fakes.ena.schema import Kind
from tests.fakes.ena.server import FakeENA

pytestmark = pytest.mark.django_db(transaction=True)


def _tick(sensor, instance, ena, cursor=None) -> dg.SensorResult:
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"ena": ena}
    ) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _ingest(instance, ena, key: str) -> None:
    dg.materialize(INGEST_ASSETS, partition_key=key, instance=instance, resources={"ena": ena})


def test_changes_in_ena_request_a_re_ingest_once(
    instance, ena, partitions, fake_ena: FakeENA
) -> None:
    partitions(HOLOFOOD_STUDY, AMPLICON_STUDY)
    _ingest(instance, ena, HOLOFOOD_STUDY)
    _ingest(instance, ena, AMPLICON_STUDY)
    sensor = build_ena_sync_sensor(SensorsConfig())
    assert _tick(sensor, instance, ena).run_requests == []

    fake_ena.add_study(
        {
            **fake_ena.record(Kind.STUDY, HOLOFOOD_STUDY),
            "study_title": "HoloFood Salmon (renamed)",
            "last_updated": "2026-11-01",
        }
    )
    fake_ena.set_private(AMPLICON_STUDY, "Webin-4242")
    result = _tick(sensor, instance, ena)
    requests = {r.partition_key: r for r in result.run_requests}
    assert set(requests) == {HOLOFOOD_STUDY, AMPLICON_STUDY}
    again = _tick(sensor, instance, ena)
    assert {r.run_key for r in again.run_requests} == {r.run_key for r in result.run_requests}

    _ingest(instance, ena, HOLOFOOD_STUDY)
    _ingest(instance, ena, AMPLICON_STUDY)
    assert Study.objects.get(ena_accessions__has_accession=AMPLICON_STUDY).is_private
    assert (
        Study.objects.get(ena_accessions__has_accession=HOLOFOOD_STUDY).title
        == "HoloFood Salmon (renamed)"
    )
    assert _tick(sensor, instance, ena).run_requests == []


def test_the_cursor_walks_through_known_studies(instance, ena, partitions) -> None:
    partitions(HOLOFOOD_STUDY, AMPLICON_STUDY)
    _ingest(instance, ena, HOLOFOOD_STUDY)
    _ingest(instance, ena, AMPLICON_STUDY)
    sensor = build_ena_sync_sensor(SensorsConfig(sync_studies_per_tick=1))
    first = _tick(sensor, instance, ena)
    second = _tick(sensor, instance, ena, first.cursor)
    third = _tick(sensor, instance, ena, second.cursor)
    assert first.cursor == min(HOLOFOOD_STUDY, AMPLICON_STUDY)
    assert second.cursor == max(HOLOFOOD_STUDY, AMPLICON_STUDY)
    assert third.cursor == ""  # wrapped around
