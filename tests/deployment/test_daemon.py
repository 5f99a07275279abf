"""`dagster-daemon` from the repository root: the new-studies sensor, turned on by configuration,
adds partitions and its queued ingest runs are launched and write the study to the database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from emg_assets.partitions import STUDY_PARTITIONS_NAME
from emg_django.analyses.models import Study
from tests.deployment.conftest import emg_database_url
from tests.fakes.ena.datasets import (
    AMPLICON_STUDY,
    DATAHUB_PASSWORD,
    DATAHUB_USERNAME,
    seed_realistic,
)
from tests.fakes.ena.server import FakeENA

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Path]:
    """A daemon on the embedded instance config, its sensor running, pointed at a fake ENA."""
    with FakeENA() as fake:
        seed_realistic(fake)
        home = tmp_path / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text(
            (ROOT / "deployment/dagster/dagster.embedded.yaml").read_text()
        )
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "EMG_DATABASE__URL": emg_database_url(),
            "EMG_DJANGO__DEBUG": "true",
            "EMG_ENA__PORTAL_API_URL": fake.portal_api_url,
            "EMG_WEBIN__DATAHUB_USERNAME": DATAHUB_USERNAME,
            "EMG_WEBIN__DATAHUB_PASSWORD": DATAHUB_PASSWORD,
            "EMG_SENSORS__NEW_STUDIES_RUNNING": "true",
            "EMG_SENSORS__NEW_STUDIES_START_DATE": "2023-05-01",
            "EMG_SENSORS__NEW_STUDIES_INTERVAL_SECONDS": "30",
        }
        log = (home / "daemon.log").open("w")
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield home
        finally:
            process.terminate()
            process.wait(timeout=60)
            log.close()


def test_sensor_partitions_and_queued_runs(daemon: Path) -> None:
    deadline = time.monotonic() + 150
    with dg.DagsterInstance.from_config(str(daemon)) as instance:
        while time.monotonic() < deadline:
            keys = set(instance.get_dynamic_partitions(STUDY_PARTITIONS_NAME))
            runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))
            if AMPLICON_STUDY in keys and any(
                r.tags.get("dagster/partition") == AMPLICON_STUDY for r in runs
            ):
                break
            time.sleep(1)
        else:
            log = (daemon / "daemon.log").read_text()[-3000:]
            raise AssertionError(f"no ingest of {AMPLICON_STUDY} in 150 s: {log}")
        [run] = [r for r in runs if r.tags.get("dagster/partition") == AMPLICON_STUDY]
        assert run.job_name == "ena_ingest" and run.tags["emg/trigger"] == "new_ena_studies"
    assert Study.objects.filter(ena_accessions__has_accession=AMPLICON_STUDY).exists()
