"""The production dagster.yaml: an instance on the real Postgres that materialises a partition."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from emg_assets.ena.assets import INGEST_ASSETS
from emg_assets.partitions import add_study_partitions
from emg_assets.run_launcher import HealthCheckedRunLauncher
from emg_django.analyses.models import Study
from tests.fakes.ena.datasets import HOLOFOOD_STUDY

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_production_instance_stores_on_postgres_and_materialises(production_instance, ena) -> None:
    instance = production_instance
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
    assert instance.run_monitoring_enabled and instance.run_retries_enabled
    # Monitoring can tell a dead run worker only with a launcher that checks workers.
    assert isinstance(instance.run_launcher, HealthCheckedRunLauncher)
    assert instance.run_launcher.supports_check_run_worker_health
    assert instance.run_retries_max_retries == 2

    add_study_partitions(instance, [HOLOFOOD_STUDY])
    result = dg.materialize(
        INGEST_ASSETS, partition_key=HOLOFOOD_STUDY, instance=instance, resources={"ena": ena}
    )

    assert result.success
    [run] = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert run.tags["dagster/partition"] == HOLOFOOD_STUDY
    materialised = instance.get_materialized_partitions(dg.AssetKey("ena_read_runs"))
    assert materialised == {HOLOFOOD_STUDY}
    assert Study.objects.filter(ena_accessions__has_accession=HOLOFOOD_STUDY).exists()
    # The events really are in Postgres, readable by a second instance (a webserver, a daemon).
    second = dg.DagsterInstance.from_config(str(Path(instance.root_directory)))
    try:
        assert second.get_latest_materialization_event(dg.AssetKey("ena_study")) is not None
    finally:
        second.dispose()
