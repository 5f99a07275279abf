"""The new-ENA-studies sensor: partitions and run requests in one tick, a cursor that moves on."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from emg_assets.partitions import STUDY_PARTITIONS_NAME
from emg_django.config import SensorsConfig
from sensors.new_ena_studies import StudyCursor, build_new_ena_studies_sensor
from tests.fakes.ena.datasets import GUAYMAS_STUDY, HOLOFOOD_STUDY, PRIVATE_STUDY, generate_studies
from tests.fakes.ena.server import FakeENA


def _tick(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, ena, cursor: str | None
) -> dg.SensorResult:
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"ena": ena}
    ) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    # What the daemon does with the result: add the partitions.
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_new_studies_become_partitions_with_run_requests(instance, ena, fake_ena: FakeENA) -> None:
    new = generate_studies(fake_ena, 30, first_public_from=dt.date(2026, 3, 1), days=10)
    sensor = build_new_ena_studies_sensor(SensorsConfig(new_studies_start_date=dt.date(2026, 3, 1)))

    first = _tick(sensor, instance, ena, None)

    keys = [request.partition_key for request in first.run_requests]
    assert sorted(keys) == sorted(new)
    assert {request.run_key for request in first.run_requests} == {
        f"new-ena-study:{k}" for k in new
    }
    assert set(instance.get_dynamic_partitions(STUDY_PARTITIONS_NAME)) == set(new)
    cursor = StudyCursor.model_validate_json(first.cursor)
    assert dt.date(2026, 3, 1) <= cursor.last_date <= dt.date(2026, 3, 10)
    assert cursor.handled

    second = _tick(sensor, instance, ena, first.cursor)
    assert second.run_requests == []
    assert not second.dynamic_partitions_requests
    assert json.loads(second.cursor) == json.loads(first.cursor)


def test_old_studies_before_the_start_date_are_ignored(instance, ena) -> None:
    sensor = build_new_ena_studies_sensor(SensorsConfig(new_studies_start_date=dt.date(2023, 1, 1)))
    keys = {r.partition_key for r in _tick(sensor, instance, ena, None).run_requests}
    # Guaymas (2018) is older than the start date; HoloFood was updated in 2022; the private
    # study is invisible to a public listing.
    assert GUAYMAS_STUDY not in keys and HOLOFOOD_STUDY not in keys and PRIVATE_STUDY not in keys
    assert keys  # the synthetic studies of 2023/2024


def test_a_tick_is_capped_and_carries_the_rest(instance, ena, fake_ena: FakeENA) -> None:
    new = generate_studies(fake_ena, 25, first_public_from=dt.date(2026, 5, 1), days=3)
    sensor = build_new_ena_studies_sensor(
        SensorsConfig(new_studies_start_date=dt.date(2026, 5, 1), max_run_requests_per_tick=10)
    )
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        result = _tick(sensor, instance, ena, cursor)
        assert len(result.run_requests) == 10 or (len(seen) == 20 and len(result.run_requests) == 5)
        seen += [r.partition_key for r in result.run_requests]
        cursor = result.cursor
    assert sorted(seen) == sorted(new) and len(set(seen)) == 25
    assert _tick(sensor, instance, ena, cursor).run_requests == []


def test_studies_already_partitions_are_skipped(
    instance, ena, fake_ena: FakeENA, partitions
) -> None:
    new = generate_studies(fake_ena, 5, first_public_from=dt.date(2026, 7, 1), days=1)
    partitions(new[0], new[1])
    sensor = build_new_ena_studies_sensor(SensorsConfig(new_studies_start_date=dt.date(2026, 7, 1)))
    keys = {r.partition_key for r in _tick(sensor, instance, ena, None).run_requests}
    assert keys == set(new[2:])


def test_library_strategy_filter(instance, ena, fake_ena: FakeENA) -> None:
    new = generate_studies(
        fake_ena,
        6,
        first_public_from=dt.date(2026, 8, 1),
        days=1,
        library_strategies=("WGS", "AMPLICON"),
    )
    sensor = build_new_ena_studies_sensor(
        SensorsConfig(
            new_studies_start_date=dt.date(2026, 8, 1), new_studies_library_strategies=["AMPLICON"]
        )
    )
    keys = {r.partition_key for r in _tick(sensor, instance, ena, None).run_requests}
    assert keys == set(new[1::2])


@pytest.mark.parametrize("running", [True, False])
def test_default_status_is_configurable(running: bool) -> None:
    sensor = build_new_ena_studies_sensor(SensorsConfig(new_studies_running=running))
    expected = dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED
    assert sensor.default_status == expected
