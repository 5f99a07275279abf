"""The embedded default (SQLite): migrations, accession lookup and bulk upserts work there too.

Runs in a subprocess because the suite's Django is configured for Postgres.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from emg_django.core.bulk import bulk_upsert
from emg_django.ena.models import Study as ENAStudy
from emg_django.analyses.models import Study
from emg_django.analyses.demo import load_demo_data
from django.db import connection
rows = [
    {"accession": f"PRJEB{i}", "additional_accessions": [f"ERP{i}"], "title": f"t{i}"}
    for i in range(1, 2001)
]
first = bulk_upsert(ENAStudy, rows, unique_field="accession")
rows[5]["title"] = "changed"
second = bulk_upsert(ENAStudy, rows, unique_field="accession")
load_demo_data()
print(json.dumps({
    "first": [first.inserted, first.updated, first.unchanged],
    "second": [second.inserted, second.updated, second.unchanged],
    "by_secondary": Study.objects.filter(ena_accessions__has_accession="ERP125469").count(),
    "journal": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0],
}))
"""


def test_sqlite_default_supports_the_write_path(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "emg_django.settings",
        "EMG_DATABASE__URL": f"sqlite:///{tmp_path / 'emg.sqlite3'}",
        "EMG_DJANGO__DEBUG": "true",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["first"] == [2000, 0, 0]
    assert result["second"] == [0, 1, 1999]
    assert result["by_secondary"] == 1
    assert result["journal"] == "wal"
