"""The Slurm resource against the real dev cluster (``local`` and ``ssh``) and ``embedded``.

The 1-minute TIMEOUT jobs start with the first test here (session fixture ``timeout_runs``) and
are checked by the last test, so their 60-95 s overlap everything else.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import dagster as dg
import paramiko
import pytest

from slurm_resource import (
    JobOutcome,
    JobSpec,
    NextflowJob,
    ResubmitPolicy,
    SlurmAuthenticationError,
    SlurmHostKeyError,
    SlurmJobFailed,
    SlurmResource,
    SlurmState,
)
from slurm_resource.transports.ssh import SSHTransport
from tests.support import wait_until

from .conftest import (
    NEXTFLOW_STANDIN_DIR,
    TRANSPORTS,
    BackgroundRun,
    CapturedLog,
    Cluster,
    ResourceFactory,
)

HELPER = Path(__file__).with_name("helper_process.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _timeout_jobs_run_meanwhile(timeout_runs: dict[str, BackgroundRun]) -> None:
    """Pulls the session fixture: the TIMEOUT jobs start before the first test here."""


def jobs_named(kind: str, resource: SlurmResource, cluster: Cluster | None, name: str) -> list[str]:
    """All job ids with this name, asked of Slurm itself (or of the embedded state)."""
    if kind == "embedded":
        out = resource.get_transport().run(
            ["sacct", "-X", "-P", "-n", "--name", name, "-S", "now-1days", "-o", "JobIDRaw"]
        )
        return out.stdout.split()
    assert cluster is not None
    return cluster.jobs_named(name)


def _cluster(request: pytest.FixtureRequest, kind: str) -> Cluster | None:
    return request.getfixturevalue("cluster") if kind != "embedded" else None


def _helper(mode: str, resource: SlurmResource, spec: JobSpec, *extra: str) -> subprocess.Popen:
    settings = resource.model_dump(mode="json", exclude_none=True)
    return subprocess.Popen(
        [sys.executable, str(HELPER), mode, json.dumps(settings), spec.model_dump_json(), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )


def _running_job(resource: SlurmResource, spec: JobSpec, timeout: float = 30) -> int:
    """Wait until the job for ``spec`` is recorded and RUNNING; return its id."""
    _, _, _, job_dir = resource.prepare(spec)
    ids = wait_until(
        lambda: Path(job_dir, "jobids").exists() and Path(job_dir, "jobids").read_text().split(),
        timeout,
        "a job id",
    )
    job_id = int(ids[-1])  # type: ignore[index]
    wait_until(
        lambda: resource.status(job_id).state is SlurmState.RUNNING,
        timeout,
        f"job {job_id} RUNNING",
    )
    return job_id


# -- success and failure ------------------------------------------------------------------------


@pytest.mark.parametrize("transport_kind", TRANSPORTS, indirect=True)
def test_success_and_failure(transport_kind: str, make_resource: ResourceFactory) -> None:
    resource = make_resource(transport_kind)
    log = CapturedLog()
    tag = uuid.uuid4().hex[:6]
    ok = JobSpec(
        name=f"ok-{tag}",
        command=(
            "python3",
            "-c",
            "import time; b = bytearray(60_000_000); "
            "print('hello from slurm', flush=True); time.sleep(3); print('bye')",
        ),
        env={"GREETING": "it's $HOME"},
        memory_mb=500,
    )
    bad = JobSpec(
        name=f"bad-{tag}",
        script='echo "boom: $GREETING" >&2; exit 3',
        env={"GREETING": "it's $HOME"},
    )
    ok_result, bad_result = resource.run_many([ok, bad], log=log, raise_on_failure=False)

    assert ok_result.state is SlurmState.COMPLETED and ok_result.succeeded
    assert ok_result.exit_code == 0 and ok_result.elapsed_seconds >= 2
    assert ok_result.node
    assert ok_result.max_rss_bytes is not None and ok_result.max_rss_bytes > 50_000_000
    assert f"[slurm {ok_result.job_id}] hello from slurm" in log.text()  # streamed while running
    meta = ok_result.to_metadata()
    assert meta["slurm_job_id"].value == ok_result.job_id
    assert meta["slurm_state"].value == "COMPLETED"
    assert {"slurm_elapsed_seconds", "slurm_max_rss_bytes", "slurm_exit_code", "slurm_node"} <= set(
        meta
    )

    assert bad_result.state is SlurmState.FAILED and bad_result.outcome is JobOutcome.FAILED
    assert bad_result.exit_code == 3
    assert bad_result.reason == "exit code 3"
    assert "boom: it's $HOME" in bad_result.log_tail  # env quoted literally, tail attached

    # Same spec again with resubmit_failed=never: reattaches to the failed job, raises clearly.
    never = make_resource(transport_kind, resubmit_failed=ResubmitPolicy.NEVER)
    with pytest.raises(SlurmJobFailed) as failure:
        never.run(bad, log=log)
    assert failure.value.result.job_id == bad_result.job_id
    assert failure.value.result.reattached
    assert "exit code 3" in str(failure.value) and "boom" in str(failure.value)
    # And the default policy (always) submits a new job for it.
    again = resource.run(bad, log=log, raise_on_failure=False)
    assert again.job_id != bad_result.job_id and again.state is SlurmState.FAILED


# -- reattach after the waiting process is killed -----------------------------------------------


@pytest.mark.parametrize("transport_kind", TRANSPORTS, indirect=True)
def test_reattach_after_the_waiting_process_is_killed(
    transport_kind: str, make_resource: ResourceFactory, request: pytest.FixtureRequest
) -> None:
    resource = make_resource(transport_kind)
    name = f"reattach-{uuid.uuid4().hex[:6]}"
    # The job runs until the test says "go": a fixed sleep could end unseen on a loaded machine.
    go = Path(resource.work_dir) / f"{name}.go"
    spec = JobSpec(
        name=name, script=f"echo started; while [ ! -e {go} ]; do sleep 0.2; done; echo finished"
    )
    proc = _helper("run", resource, spec)
    try:
        job_id = _running_job(resource, spec, timeout=60)
    finally:
        proc.kill()  # SIGKILL: the process "merely restarts" -- the job must survive it
        proc.wait()
    assert resource.status(job_id).state is SlurmState.RUNNING
    go.touch()

    log = CapturedLog()
    result = resource.run(spec, log=log)
    assert result.reattached and result.job_id == job_id
    assert result.state is SlurmState.COMPLETED
    assert f"Reattached to Slurm job {job_id}" in log.text()
    _, _, name, _ = resource.prepare(spec)
    assert jobs_named(transport_kind, resource, _cluster(request, transport_kind), name) == [
        str(job_id)
    ]
    # A finished, successful job is reattached to as well (its result is reused).
    assert resource.run(spec).job_id == job_id


# -- cancellation from Dagster ------------------------------------------------------------------


@pytest.mark.parametrize("transport_kind", TRANSPORTS, indirect=True)
def test_dagster_run_cancellation_cancels_the_job(
    transport_kind: str, make_resource: ResourceFactory, tmp_path: Path
) -> None:
    resource = make_resource(transport_kind)
    spec = JobSpec(name=f"cancel-{uuid.uuid4().hex[:6]}", script="echo started; sleep 120")
    home = tmp_path / "dagster_home"
    home.mkdir()
    proc = _helper("materialize", resource, spec, str(home))
    try:
        job_id = _running_job(resource, spec, timeout=60)
        # What Dagster's run termination does: mark the run CANCELING, then signal the worker.
        instance = dg.DagsterInstance.local_temp(tempdir=str(home))
        (run,) = instance.get_runs()
        instance.report_run_canceling(run)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"cancelling Slurm job {job_id}" in out, out
    status = wait_until(lambda: (s := resource.status(job_id)).final and s, 30, "cancellation")
    assert status.state is SlurmState.CANCELLED, status  # type: ignore[union-attr]
    assert "success=False" in out


@pytest.mark.slurm
def test_an_interrupt_without_run_cancellation_leaves_the_job_running(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A SIGTERM that is not a run cancellation (e.g. pod eviction) must not scancel."""
    from .conftest import build_resource, unique_dir

    resource = build_resource("local", cluster, unique_dir(cluster.work_dir, "sigterm"))
    spec = JobSpec(name=f"evicted-{uuid.uuid4().hex[:6]}", script="sleep 120")
    home = tmp_path / "dagster_home"
    home.mkdir()
    proc = _helper("materialize", resource, spec, str(home))
    try:
        job_id = _running_job(resource, spec, timeout=60)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert "leaving Slurm jobs" in out, out
        time.sleep(1.0)
        assert resource.status(job_id).state is SlurmState.RUNNING
    finally:
        if proc.poll() is None:
            proc.kill()
        resource.cancel(job_id)


# -- sacct failing, slurmctld restarting ----------------------------------------------------------


def _run_in_thread(resource: SlurmResource, spec: JobSpec, log: CapturedLog) -> dict:
    box: dict = {}

    def target() -> None:
        try:
            box["result"] = resource.run(spec, log=log)
        except BaseException as exc:  # re-raised by the test
            box["error"] = exc

    box["thread"] = threading.Thread(target=target, daemon=True)
    box["thread"].start()
    return box


@pytest.mark.slurm
@pytest.mark.ssh
def test_sacct_failing_for_a_while_does_not_fail_the_job(cluster: Cluster) -> None:
    """slurmdbd is stopped while the jobs run: every sacct call fails, then it comes back."""
    from .conftest import build_resource, unique_dir

    base = unique_dir(cluster.work_dir, "sacct-down")
    resources = {k: build_resource(k, cluster, base / k) for k in ("local", "ssh")}
    spec = JobSpec(name=f"dbd-down-{uuid.uuid4().hex[:6]}", script="sleep 6; echo done")
    logs = {k: CapturedLog() for k in resources}
    failed_before = {k: r.get_monitor().stats.failed_calls for k, r in resources.items()}
    boxes = {k: _run_in_thread(r, spec, logs[k]) for k, r in resources.items()}
    for resource in resources.values():
        _running_job(resource, spec)
    cluster.dev("stop", "slurmdbd")
    try:
        wait_until(
            lambda: all(
                r.get_monitor().stats.failed_calls > failed_before[k] for k, r in resources.items()
            ),
            20,
            "failed sacct calls",
        )
    finally:
        cluster.dev("up")
    for kind, box in boxes.items():
        box["thread"].join(timeout=90)
        assert "error" not in box, box.get("error")
        assert box["result"].state is SlurmState.COMPLETED, kind


@pytest.mark.slurm
def test_slurmctld_stopped_and_restarted_while_a_job_runs(cluster: Cluster) -> None:
    from .conftest import build_resource, unique_dir

    resource = build_resource("local", cluster, unique_dir(cluster.work_dir, "ctld"))
    spec = JobSpec(name=f"ctld-restart-{uuid.uuid4().hex[:6]}", script="sleep 5; echo survived")
    log = CapturedLog()
    box = _run_in_thread(resource, spec, log)
    job_id = _running_job(resource, spec)
    cluster.dev("stop", "slurmctld")
    try:
        with pytest.raises(ConnectionRefusedError):  # really down
            socket.create_connection(("127.0.0.1", cluster.slurmctld_port), timeout=5).close()
        time.sleep(6)  # the job ends while the controller is away
    finally:
        cluster.dev("up")
    box["thread"].join(timeout=120)
    assert "error" not in box, box.get("error")
    assert box["result"].job_id == job_id
    assert box["result"].state is SlurmState.COMPLETED


# -- ssh: host keys and authentication ------------------------------------------------------------


@pytest.mark.slurm
@pytest.mark.ssh
def test_ssh_host_key_mismatch_and_unknown_host_are_refused(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = cluster.ssh_settings()
    wrong = tmp_path / "known_hosts_wrong"
    other_key = paramiko.Ed25519Key.from_private_key_file(settings["ssh_key_path"])
    wrong.write_text(f"[127.0.0.1]:{settings['ssh_port']} ssh-ed25519 {other_key.get_base64()}\n")
    transport = SSHTransport(
        settings["ssh_host"],
        settings["ssh_port"],
        settings["ssh_user"],
        settings["ssh_key_path"],
        str(wrong),
    )
    with pytest.raises(SlurmHostKeyError, match="host key mismatch"):
        transport.run(["true"])
    empty = tmp_path / "known_hosts_empty"
    empty.write_text("")
    transport = SSHTransport(
        settings["ssh_host"],
        settings["ssh_port"],
        settings["ssh_user"],
        settings["ssh_key_path"],
        str(empty),
    )
    with pytest.raises(SlurmHostKeyError, match="never added automatically"):
        transport.run(["true"])
    assert empty.read_text() == ""  # nothing was added


@pytest.mark.slurm
@pytest.mark.ssh
def test_ssh_authentication_failure_is_reported_clearly(cluster: Cluster, tmp_path: Path) -> None:
    settings = cluster.ssh_settings()
    stranger = tmp_path / "stranger_key"
    paramiko.RSAKey.generate(2048).write_private_key_file(str(stranger))
    resource = SlurmResource(
        transport="ssh", work_dir=str(tmp_path), **{**settings, "ssh_key_path": str(stranger)}
    )
    with pytest.raises(SlurmAuthenticationError) as error:
        resource.run(JobSpec(name="never", command=("true",)))
    message = str(error.value)
    assert "authentication failed" in message
    assert f"{settings['ssh_user']}@127.0.0.1:{settings['ssh_port']}" in message
    assert str(stranger) in message


@pytest.mark.slurm
@pytest.mark.ssh
def test_ssh_connection_is_reused_and_reopened_after_a_drop(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = cluster.ssh_settings()
    transport = SSHTransport(
        settings["ssh_host"],
        settings["ssh_port"],
        settings["ssh_user"],
        settings["ssh_key_path"],
        settings["ssh_known_hosts_path"],
    )
    for _ in range(5):
        assert transport.run(["sh", "-c", "echo $SLURM_CONF"]).stdout.strip() == cluster.slurm_conf
    assert transport.connects == 1
    assert transport._client is not None
    transport._client.get_transport().close()  # the connection drops
    assert transport.run(["squeue", "-h", "-o", "%i"]).ok
    assert transport.connects == 2
    transport.close()


# -- Nextflow with the stand-in executable -------------------------------------------------------


@pytest.mark.parametrize("transport_kind", TRANSPORTS, indirect=True)
def test_nextflow_run_with_the_standin(
    transport_kind: str, make_resource: ResourceFactory, work_dir: Path
) -> None:
    resource = make_resource(transport_kind)
    data = work_dir / "nf"
    data.mkdir()
    data.chmod(0o1777)
    sheet = data / "samplesheet.csv"
    sheet.write_text("sample,fastq_1\nSRR1,/data/SRR1_1.fastq.gz\nSRR2,/data/SRR2_1.fastq.gz\n")
    config = data / "site.config"
    config.write_text("process.executor = 'slurm'\n")
    job = NextflowJob(
        # A pipeline without its own layout in the stand-in: its generic writer (FASTP, SUMMARY
        # per sample). The MGnify layouts are exercised by the emg_assets tests.
        name="nf-test",
        pipeline="example-org/generic-test-pipeline",
        revision="v1.0.0",
        profile="codon_slurm",
        config_files=(str(config),),
        samplesheet=str(sheet),
        outdir=str(data / "out"),
        work_dir=str(data / "work"),
        trace_file=str(data / "trace.txt"),
        launch_dir=str(data),
        params={"mode": "test"},
        time_limit_minutes=10,
        memory_mb=256,
        path_prepend=(str(NEXTFLOW_STANDIN_DIR),),
    )
    log = CapturedLog()
    result = resource.run_nextflow(job, log=log)
    assert result.job.state is SlurmState.COMPLETED
    assert [t.name for t in result.tasks] == [
        "FASTP (SRR1)",
        "SUMMARY (SRR1)",
        "FASTP (SRR2)",
        "SUMMARY (SRR2)",
    ]
    assert all(t.status == "COMPLETED" and t.exit == 0 for t in result.tasks)
    assert result.tasks[0].peak_rss_bytes == int(12.3 * (1 << 20))
    assert (data / "out" / "SRR2" / "SRR2_summary.tsv").exists()
    assert "stand-in test fixture" in log.text()  # the head job's output was streamed

    # A failing sample: the job fails, the trace still tells which task.
    failing = job.model_copy(update={"env": {"NEXTFLOW_STANDIN_FAIL_SAMPLE": "SRR2"}})
    outcome = resource.run_nextflow(failing, log=log, raise_on_failure=False)
    assert outcome.job.state is SlurmState.FAILED and outcome.job.exit_code == 1
    assert [t.name for t in outcome.failed_tasks] == ["SUMMARY (SRR2)"]
    assert any("ERROR ~ Error executing process" in line for line in outcome.job.log_tail)
    # The first run's trace was kept aside, not overwritten (Nextflow refuses to overwrite it).
    assert len(list(data.glob("trace.txt.*"))) == 1


# -- throttle ----------------------------------------------------------------------------


def test_throttle_waits_while_the_user_has_too_many_incomplete_jobs(tmp_path: Path) -> None:
    resource = SlurmResource(
        transport="embedded",
        work_dir=str(tmp_path),
        max_incomplete_jobs=1,
        poll_interval_seconds=0.2,
    )
    first = resource.submit(JobSpec(name="first", script="sleep 2"))
    submitted_at: dict[str, float] = {}

    def second() -> None:
        resource.submit(JobSpec(name="second", command=("true",)))
        submitted_at["second"] = time.monotonic()

    started = time.monotonic()
    thread = threading.Thread(target=second)
    thread.start()
    result = resource.wait(first)
    ended = time.monotonic()
    thread.join(timeout=10)
    assert result.succeeded
    assert submitted_at["second"] >= ended - 0.5  # held back until the first job ended
    assert submitted_at["second"] - started >= 1.5


# -- TIMEOUT (started with the session) -----------------------------------------------------------


def test_zz_timeout_and_escalation(timeout_runs: dict[str, BackgroundRun]) -> None:
    """Named to run last: by now the 1-minute jobs started at session start have timed out."""
    for label, run in timeout_runs.items():
        run.thread.join(timeout=180)
        assert not run.thread.is_alive(), f"{label}: still waiting"
        assert run.error is None, f"{label}: {run.error!r}"
        assert run.result is not None
        if label == "local":
            # Escalated: the first attempt timed out, the retry with twice the time completed.
            assert run.result.state is SlurmState.COMPLETED, run.log.text()
            assert len(run.result.previous_job_ids) == 1
            assert "TIMEOUT: retrying with" in run.log.text()
            assert run.result.spec is not None and run.result.spec.time_limit_minutes == 2
        else:
            assert run.result.state is SlurmState.TIMEOUT, (label, run.log.text())
            assert run.result.reason == "the job reached its time limit"
            assert "started" in run.result.log_tail
    if os.environ.get("CI", "").lower() == "true":
        assert {"local", "ssh", "embedded"} <= set(timeout_runs)
