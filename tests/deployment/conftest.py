"""Deployment tests: the production Dagster instance on the real Postgres, and the
code-location fixtures (fake ENA, client)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from django.conf import settings

from tests.emg_assets.conftest import ena, fake_ena  # noqa: F401
from tests.slurm_resource.conftest import (  # noqa: F401
    _close_connections_at_the_end,
    cluster,
)

ROOT = Path(__file__).resolve().parents[2]


def dagster_pg_env(database: str, home: Path) -> dict[str, str]:
    """The variables ``dagster.yaml`` reads, for a Dagster database on the test's Postgres."""
    db = settings.DATABASES["default"]
    return {
        "DAGSTER_PG_USERNAME": db["USER"] or "postgres",
        "DAGSTER_PG_PASSWORD": db["PASSWORD"] or "",
        "DAGSTER_PG_HOST": db["HOST"] or "127.0.0.1",
        "DAGSTER_PG_PORT": str(db["PORT"] or 5432),
        "DAGSTER_PG_DB": database,
        "DAGSTER_COMPUTE_LOGS_DIR": str(home / "compute-logs"),
    }


def emg_database_url() -> str:
    """``EMG_DATABASE__URL`` of the test database, for processes the tests start."""
    db = settings.DATABASES["default"]
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


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
    name = f"emg_dagster_{os.getpid()}_{uuid.uuid4().hex[:8]}"
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
    home = tmp_path / "dagster-home"
    for name, value in dagster_pg_env(dagster_database, home).items():
        monkeypatch.setenv(name, value)
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()
