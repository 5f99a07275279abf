"""The production dagster.yaml: an instance on the real Postgres that materialises a partition."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage
from django.conf import settings

from emg_assets.ena.assets import INGEST_ASSETS
from emg_assets.partitions import add_study_partitions
from emg_django.analyses.models import Study
from tests.fakes.ena.datasets import HOLOFOOD_STUDY

ROOT = Path(__file__).resolve().parents[2]


def _admin_connection() -> psycopg2.extensions.connection:
    db = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname="postgres",
        user=db["USER"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        password=db["PASSWORD"] or None,
    )
    connection.autocommit = True
    return connection


@pytest.fixture
def dagster_database() -> Iterator[str]:
    name = f"emg_dagster_{os.getpid()}"
    # Not `with connection`: psycopg2 opens a transaction there, and CREATE DATABASE refuses one.
    connection = _admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {name}")
        yield name
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        connection.close()


@pytest.fixture
def production_instance(
    dagster_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    db = settings.DATABASES["default"]
    monkeypatch.setenv("DAGSTER_PG_USERNAME", db["USER"] or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", db["PASSWORD"] or "")
    monkeypatch.setenv("DAGSTER_PG_HOST", db["HOST"] or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(db["PORT"] or 5432))
    monkeypatch.setenv("DAGSTER_PG_DB", dagster_database)
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_DIR", str(tmp_path / "compute-logs"))
    home = tmp_path / "dagster-home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()


@pytest.mark.django_db(transaction=True)
def test_production_instance_stores_on_postgres_and_materialises(production_instance, ena) -> None:
    instance = production_instance
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"
    assert instance.run_monitoring_enabled and instance.run_retries_enabled
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
