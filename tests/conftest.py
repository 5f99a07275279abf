"""Suite-wide fixtures and the rule that a missing Postgres fails CI instead of skipping."""

from __future__ import annotations

import os

import psycopg2
import pytest
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() == "true"


def _database_problem() -> str | None:
    """Why the configured database cannot be reached, or ``None`` when it can."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return None
    try:
        # The server, not the named database: pytest-django creates its own test database.
        psycopg2.connect(
            dbname="postgres",
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            connect_timeout=5,
        ).close()
    except psycopg2.OperationalError as exc:
        return str(exc).strip()
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needs_db = [item for item in items if item.get_closest_marker("django_db")]
    if not needs_db:
        return
    problem = _database_problem()
    if problem is None:
        return
    where = settings.DATABASES["default"].get("HOST") or settings.DATABASES["default"]["NAME"]
    message = f"database {where} is unreachable: {problem}"
    if IN_CI:
        pytest.exit(f"CI=true and {message}", returncode=1)
    skip = pytest.mark.skip(reason=message)
    for item in needs_db:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_biome_lookup() -> None:
    """Each test's biomes are its own: drop the API's per-process copy of the biome table."""
    from emg_django.api.biome_lookup import forget_biomes

    forget_biomes()
