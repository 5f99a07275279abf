"""The run launcher's worker health check against real code servers (``dagster api grpc`` and
``dagster code-server start``) and an unreachable one. The whole story (daemon, monitoring, run
retries, Slurm reattach) is tests/deployment/test_run_worker_death.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.launcher.base import WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG

from emg_assets.run_launcher import HealthCheckedRunLauncher
from tests.support import code_server_answers, free_port, wait_until

BIN = Path(sys.executable).parent
DEFINITIONS = """
import dagster as dg

@dg.op
def noop() -> None: ...

@dg.job
def a_job() -> None:
    noop()

defs = dg.Definitions(jobs=[a_job])
"""


def _run_on(port: int) -> dg.DagsterRun:
    return dg.DagsterRun(
        job_name="a_job",
        run_id=str(uuid.uuid4()),
        tags={GRPC_INFO_TAG: json.dumps({"host": "127.0.0.1", "port": port})},
    )


@pytest.fixture(params=[["api", "grpc"], ["code-server", "start"]], ids=["api-grpc", "proxy"])
def code_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, int]]:
    (tmp_path / "defs.py").write_text(DEFINITIONS)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "dagster"), *request.param, "-h", "127.0.0.1", "-p", str(port),
         "-f", str(tmp_path / "defs.py"), "-a", "defs"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: code_server_answers(port), 90, "the code server", interval=0.3)
        yield request.param[0], port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_run_its_code_server_does_not_run_has_a_dead_worker(code_server) -> None:
    kind, port = code_server
    health = HealthCheckedRunLauncher().check_run_worker_health(_run_on(port))
    if kind == "api":
        assert health.status == WorkerStatus.FAILED
        assert f"127.0.0.1:{port}" in (health.msg or "") and "is not running it" in health.msg
    else:  # `code-server start` cannot list its runs: never declare one dead on a guess
        assert health.status == WorkerStatus.RUNNING
        assert "cannot list its runs" in (health.msg or "")


def test_an_unreachable_code_server_is_given_a_grace_period() -> None:
    run = _run_on(free_port())  # nothing listens there
    patient = HealthCheckedRunLauncher(unreachable_grace_seconds=60)
    first = patient.check_run_worker_health(run)
    assert first.status == WorkerStatus.RUNNING and first.transient
    assert "unreachable" in (first.msg or "")

    impatient = HealthCheckedRunLauncher(unreachable_grace_seconds=0.2)
    assert impatient.check_run_worker_health(run).status == WorkerStatus.RUNNING
    time.sleep(0.3)
    late = impatient.check_run_worker_health(run)
    assert late.status == WorkerStatus.FAILED
    assert "unreachable for" in (late.msg or "")


def test_a_run_without_a_recorded_code_server_is_not_judged() -> None:
    run = dg.DagsterRun(job_name="a_job", run_id=str(uuid.uuid4()))
    health = HealthCheckedRunLauncher().check_run_worker_health(run)
    assert health.status == WorkerStatus.RUNNING


def test_the_launcher_is_configured_from_dagster_yaml(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(
        "run_launcher:\n  module: emg_assets.run_launcher\n  class: HealthCheckedRunLauncher\n"
        "  config:\n    unreachable_grace_seconds: 42\n"
    )
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        launcher = instance.run_launcher
        assert isinstance(launcher, HealthCheckedRunLauncher)
        assert launcher.unreachable_grace_seconds == 42
        assert launcher.supports_check_run_worker_health
