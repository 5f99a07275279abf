"""A deployment as docker-compose runs it — the production ``dagster.yaml`` on Postgres, a code
server (``dagster api grpc``), ``dagster-daemon`` — loses processes in the middle of a study's
analysis on the real Slurm (over ssh):

1. the daemon is killed and restarted: the run, whose worker lives in the code server, goes on;
2. the code server is killed with its run worker (a container restart) and started again: run
   monitoring (:class:`~emg_assets.run_launcher.HealthCheckedRunLauncher`) fails the run, run
   retries launch it again, and the retry reattaches to the Slurm jobs the dead worker had
   submitted: no twin job, no analysis left running, the study ends analysed.

Kept short: monitoring polls every second here (60 s in production).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import dagster as dg
import pytest
import yaml

from emg_assets.ena.assets import INGEST_ASSETS
from emg_assets.partitions import add_study_partitions
from emg_django.analyses.choices import AnalysisPipeline, AnalysisStatus, analysis_job_name
from emg_django.analyses.models import Analysis
from tests.deployment.conftest import ROOT, dagster_pg_env, emg_database_url
from tests.emg_assets.analyses.conftest import pipelines_resource
from tests.emg_assets.analyses.standin import NEXTFLOW_STANDIN
from tests.fakes.ena.datasets import generate_study
from tests.slurm_resource.conftest import Cluster, unique_dir
from tests.support import code_server_answers, free_port, wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.ssh, pytest.mark.django_db(transaction=True)]

S = AnalysisStatus
FIRST_PUBLIC = dt.date(2026, 5, 4)
BIOME = {"biome": "root:Environmental:Aquatic:Marine"}
LOCATION = "emg_assets"
BIN = Path(sys.executable).parent
RETRY_PARENT_TAG = "dagster/parent_run_id"
#: The code location reads its resources from this variable (see code_location.py).
SPEC_VARIABLE = "EMG_TEST_CODE_LOCATION"


def _log_tails(home: Path) -> str:
    return "\n".join(
        f"--- {log.name}\n{log.read_text()[-2500:]}" for log in sorted(home.glob("*.log"))
    )


class Deployment:
    """The Dagster processes of a compose deployment, as children of the test."""

    def __init__(self, home: Path, env: dict[str, str], port: int, slurm_dir: Path) -> None:
        self.home, self.env, self.port, self.slurm_dir = home, env, port, slurm_dir
        self.workspace = home / "workspace.yaml"
        self.workspace.write_text(
            yaml.safe_dump(
                {
                    "load_from": [
                        {
                            "grpc_server": {
                                "host": "127.0.0.1",
                                "port": port,
                                "location_name": LOCATION,
                            }
                        }
                    ]
                }
            )
        )
        self.code_server: subprocess.Popen[bytes] | None = None
        self.daemon: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def _start(self, argv: list[str], name: str) -> subprocess.Popen[bytes]:
        self._starts += 1
        log = (self.home / f"{self._starts:02d}-{name}.log").open("wb")
        # Own session: killing the group kills the process and its children (the run workers).
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_code_server(self) -> None:
        self.code_server = self._start(
            [
                str(BIN / "dagster"),
                "api",
                "grpc",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                "tests.deployment.code_location",
                "-a",
                "defs",
                "--location-name",
                LOCATION,
            ],
            "code-server",
        )
        wait_until(
            lambda: code_server_answers(self.port), 120, "the code server",
            diagnostics=lambda: _log_tails(self.home),
        )  # fmt: skip

    def start_daemon(self) -> None:
        self.daemon = self._start(
            [str(BIN / "dagster-daemon"), "run", "-w", str(self.workspace)], "daemon"
        )

    @staticmethod
    def kill(process: subprocess.Popen[bytes] | None) -> None:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    def launch(self, job: str, partition: str, run_config: dict) -> None:
        subprocess.run(
            [
                str(BIN / "dagster"),
                "job",
                "launch",
                "-w",
                str(self.workspace),
                "-j",
                job,
                "--tags",
                json.dumps({"dagster/partition": partition}),
                "--config-json",
                json.dumps(run_config),
            ],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )


@pytest.fixture
def deployment(
    dagster_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster: Cluster
) -> Iterator[Deployment]:
    home = tmp_path / "dagster-home"
    home.mkdir()
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    config["run_monitoring"]["poll_interval_seconds"] = 1
    config["run_launcher"]["config"]["unreachable_grace_seconds"] = 30
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    pg_env = dagster_pg_env(dagster_database, home)
    for name, value in pg_env.items():
        monkeypatch.setenv(name, value)
    base = unique_dir(cluster.work_dir, "worker-death")
    # The head job sleeps per sample so that the kills land while the Slurm jobs run.
    nextflow = base / "nextflow"
    nextflow.write_text(f'#!/bin/sh\nNEXTFLOW_STANDIN_SLEEP=3 exec "{NEXTFLOW_STANDIN}" "$@"\n')
    nextflow.chmod(0o755)
    pipelines = pipelines_resource(base / "results", chunk_size=2, dir_mode=0o777).model_copy(
        update={"nextflow_executable": str(nextflow)}
    )
    slurm = {
        "transport": "ssh",
        "work_dir": str(base / "slurm"),
        "poll_interval_seconds": 0.5,
        "slurm_conf": cluster.slurm_conf,
        **cluster.ssh_settings(),
    }
    env = {
        **os.environ,
        **pg_env,
        "DAGSTER_HOME": str(home),
        "EMG_DATABASE__URL": emg_database_url(),
        "EMG_DJANGO__DEBUG": "true",
        SPEC_VARIABLE: json.dumps({"slurm": slurm, "pipelines": pipelines.model_dump()}),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the code location uses the platform's settings
    deployed = Deployment(home, env, free_port(), base / "slurm")
    try:
        yield deployed
    finally:
        deployed.kill(deployed.daemon)
        deployed.kill(deployed.code_server)


def _chunk_jobs(slurm_dir: Path) -> list[Path]:
    return sorted(p for p in slurm_dir.glob("emg-amplicon-*") if (p / "jobids").is_file())


def _statuses(runs: list[str]) -> list[str]:
    found = dict(
        Analysis.objects.filter(run__accession__in=runs).values_list("run__accession", "status")
    )
    return [found.get(a, "") for a in runs]


def test_killed_daemon_and_code_server_the_run_is_failed_retried_and_reattached(
    deployment: Deployment, cluster: Cluster, ena, fake_ena
) -> None:
    study = generate_study(
        fake_ena, None, 4, 4, seed=31, library_strategy="AMPLICON", first_public=FIRST_PUBLIC
    )
    runs = sorted(study.run_accessions)
    with dg.instance_for_test() as scratch:  # the study's tables, as an ingest writes them
        add_study_partitions(scratch, [study.accession])
        dg.materialize(
            list(INGEST_ASSETS), partition_key=study.accession, instance=scratch,
            resources={"ena": ena},
        )  # fmt: skip
    logs = partial(_log_tails, deployment.home)
    with dg.DagsterInstance.from_config(str(deployment.home)) as instance:
        add_study_partitions(instance, [study.accession])
        deployment.start_code_server()
        deployment.start_daemon()
        deployment.launch(
            analysis_job_name(AnalysisPipeline.AMPLICON),
            study.accession,
            {"ops": {"amplicon_analyses": {"config": BIOME}}},
        )
        slurm_dir = deployment.slurm_dir
        wait_until(
            lambda: len(_chunk_jobs(slurm_dir)) == 2, 180, "the two chunk jobs",
            interval=0.5, diagnostics=logs,
        )  # fmt: skip
        [original] = instance.get_runs()
        assert original.status == dg.DagsterRunStatus.STARTED

        # 1. The daemon dies and comes back: the run is the code server's, it goes on.
        deployment.kill(deployment.daemon)
        deployment.start_daemon()
        assert instance.get_run_by_id(original.run_id).status == dg.DagsterRunStatus.STARTED

        # 2. The code server dies with the run worker, while the Slurm jobs run, and restarts.
        names = [p.name for p in _chunk_jobs(slurm_dir)]
        deployment.kill(deployment.code_server)
        assert _statuses(runs) == [S.RUNNING] * 4
        deployment.start_code_server()

        def retried() -> dg.DagsterRun | None:
            children = instance.get_runs(
                filters=dg.RunsFilter(tags={RETRY_PARENT_TAG: original.run_id})
            )
            done = [r for r in children if r.is_finished]
            return done[0] if done else None

        retry: dg.DagsterRun = wait_until(  # type: ignore[assignment]
            retried, 240, "the retried run to finish", interval=0.5, diagnostics=logs
        )
        assert retry.status == dg.DagsterRunStatus.SUCCESS, retry.status
        failed = instance.get_run_by_id(original.run_id)
        assert failed is not None and failed.status == dg.DagsterRunStatus.FAILURE
        messages = [e.message for e in instance.all_logs(original.run_id)]
        assert any("is not running it" in m for m in messages), messages[-5:]

    for name in names:
        assert len(cluster.jobs_named(name)) == 1, f"a twin of {name} was submitted"
        assert len((slurm_dir / name / "jobids").read_text().split()) == 1
    assert _statuses(runs).count(S.RUNNING) == 0
    assert set(_statuses(runs)) <= {S.ANNOTATIONS_IMPORTED, S.QC_FAILED}
    assert _statuses(runs).count(S.ANNOTATIONS_IMPORTED) >= 3
