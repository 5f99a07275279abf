"""Unit tests of the Slurm resource's pieces: no cluster (the embedded transport at most)."""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from slurm_resource import (
    JobOutcome,
    JobSpec,
    NextflowJob,
    SlurmResource,
    SlurmState,
    parse_state,
    parse_trace,
)
from slurm_resource import sacct as sq
from slurm_resource.monitor import JobMonitor
from slurm_resource.nextflow import parse_duration, parse_memory
from slurm_resource.states import outcome_of
from slurm_resource.transports.base import CommandResult

# -- states ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "state", "outcome", "reason_part"),
    [
        ("PENDING", SlurmState.PENDING, JobOutcome.RUNNING, ""),
        ("RUNNING", SlurmState.RUNNING, JobOutcome.RUNNING, ""),
        ("COMPLETING", SlurmState.COMPLETING, JobOutcome.RUNNING, ""),
        ("REQUEUED", SlurmState.REQUEUED, JobOutcome.RUNNING, ""),
        ("SUSPENDED", SlurmState.SUSPENDED, JobOutcome.RUNNING, ""),
        ("COMPLETED", SlurmState.COMPLETED, JobOutcome.SUCCEEDED, ""),
        ("FAILED", SlurmState.FAILED, JobOutcome.FAILED, "non-zero"),
        ("TIMEOUT", SlurmState.TIMEOUT, JobOutcome.FAILED, "time limit"),
        ("OUT_OF_MEMORY", SlurmState.OUT_OF_MEMORY, JobOutcome.FAILED, "out of memory"),
        ("CANCELLED by 1234", SlurmState.CANCELLED, JobOutcome.FAILED, "by 1234"),
        ("CANCELLED+", SlurmState.CANCELLED, JobOutcome.FAILED, "cancelled"),
        ("NODE_FAIL", SlurmState.NODE_FAIL, JobOutcome.FAILED, "node"),
        ("PREEMPTED", SlurmState.PREEMPTED, JobOutcome.FAILED, "preempted"),
        ("BOOT_FAIL", SlurmState.BOOT_FAIL, JobOutcome.FAILED, "boot"),
        ("DEADLINE", SlurmState.DEADLINE, JobOutcome.FAILED, "deadline"),
        ("CA", SlurmState.CANCELLED, JobOutcome.FAILED, "cancelled"),
        ("PD", SlurmState.PENDING, JobOutcome.RUNNING, ""),
        ("OOM", SlurmState.OUT_OF_MEMORY, JobOutcome.FAILED, "memory"),
    ],
)
def test_states_map_to_outcomes(
    text: str, state: SlurmState, outcome: JobOutcome, reason_part: str
) -> None:
    parsed = parse_state(text)
    assert parsed.state is state
    assert parsed.outcome is outcome
    assert reason_part in parsed.reason
    if outcome is not JobOutcome.FAILED:
        assert parsed.reason == ""


def test_every_state_has_an_outcome_and_unknown_states_are_refused() -> None:
    for state in SlurmState:
        assert outcome_of(state) in JobOutcome
    with pytest.raises(ValueError, match="unknown Slurm job state"):
        parse_state("EXPLODED")


# -- sacct parsing ----------------------------------------------------------------------------


def test_sacct_allocation_lines_and_max_rss_are_parsed() -> None:
    out = "7|emg-x|CANCELLED by 0|0:15|12|vm|None\n8|emg-y|PENDING|0:0|0|None assigned|Priority\n"
    records = {r.job_id: r for r in sq.parse_allocations(out)}
    assert records[7].state.state is SlurmState.CANCELLED
    assert records[7].state.detail == "by 0"
    assert (records[7].exit_code, records[7].signal, records[7].elapsed_seconds) == (0, 15, 12)
    assert records[8].node is None and records[8].reason == "Priority"
    assert sq.parse_max_rss("7.batch|63608K\n8.batch|\n9.batch|1.5G\n") == {
        7: 63608 * 1024,
        8: None,
        9: int(1.5 * (1 << 30)),
    }
    with pytest.raises(ValueError):
        sq.parse_allocations("1|x|RUNNING\n")  # wrong number of columns is never ignored


def test_sacct_id_lists_are_chunked_at_150() -> None:
    ids = list(range(1, 401))
    chunks = list(sq.chunked(ids))
    assert [len(c) for c in chunks] == [150, 150, 100]
    assert sq.allocations_argv(chunks[0])[:5] == ["sacct", "-X", "-P", "-n", "-j"]
    with pytest.raises(ValueError):
        sq.allocations_argv(ids)


# -- job spec ---------------------------------------------------------------------------------


def test_job_hash_is_stable_and_covers_input_contents(tmp_path: Path) -> None:
    sheet = tmp_path / "samplesheet.csv"
    sheet.write_text("sample\nA\n")
    spec = JobSpec(name="x", command=("echo", "hi"), input_files=(str(sheet),))
    resource = SlurmResource(transport="embedded", work_dir=str(tmp_path / "w"))
    _, digest1, name1, _ = resource.prepare(spec)
    _, digest2, name2, _ = resource.prepare(JobSpec(**spec.model_dump()))
    assert (digest1, name1) == (digest2, name2)
    assert name1.startswith("emg-x-") and len(name1) == len("emg-x-") + 16
    sheet.write_text("sample\nB\n")
    _, digest3, _, _ = resource.prepare(spec)
    assert digest3 != digest1
    _, digest4, _, _ = resource.prepare(spec.model_copy(update={"memory_mb": 100}))
    assert digest4 not in (digest1, digest3)
    with pytest.raises(FileNotFoundError):
        resource.prepare(JobSpec(name="x", command=("true",), input_files=("/nonexistent",)))


def test_job_script_and_sbatch_arguments_are_quoted(tmp_path: Path) -> None:
    nasty = 'it\'s $(rm -rf /) `x` "q" ; | & *'
    spec = JobSpec(
        name="we ird/name",
        command=("printf", "%s\\n", nasty),
        env={"MY_VAR": nasty},
        path_prepend=("/opt/a b",),
    )
    script = spec.render_script("emg-x", "0" * 64)
    script_file = tmp_path / "job.sh"
    script_file.write_text(script)
    out = subprocess.run(["bash", str(script_file)], capture_output=True, text=True, check=True)
    assert out.stdout == nasty + "\n"
    env_out = subprocess.run(
        ["bash", "-c", script.replace("exec printf", "printf '%s\\n' \"$MY_VAR\"; exec printf")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert env_out.stdout.splitlines()[0] == nasty
    assert spec.job_name("emg", "ab" * 32).startswith("emg-we-ird-name-")
    argv = spec.sbatch_argv(
        job_name="n",
        script_path="/w/job.sh",
        log_path="/w/slurm-%j.log",
        chdir="/w",
        partition="debug",
        account=None,
    )
    assert argv[:2] == ["sbatch", "--parsable"] and argv[-1] == "/w/job.sh"
    with pytest.raises(ValueError):
        JobSpec(name="x")
    with pytest.raises(ValueError):
        JobSpec(name="x", command=("a",), script="b")
    with pytest.raises(ValueError):
        JobSpec(name="x", command=("a",), env={"BAD-NAME": "1"})


def test_escalation_multiplies_and_caps() -> None:
    resource = SlurmResource(
        transport="embedded",
        work_dir="/tmp/unused",
        max_escalations=2,
        escalation_factor=2.0,
        max_memory_mb=3000,
        max_time_limit_minutes=90,
    )
    spec = JobSpec(name="x", command=("true",), memory_mb=1000, time_limit_minutes=60)
    more_mem = resource._escalate(spec, SlurmState.OUT_OF_MEMORY)
    assert more_mem is not None and more_mem.memory_mb == 2000
    capped = resource._escalate(more_mem, SlurmState.OUT_OF_MEMORY)
    assert capped is not None and capped.memory_mb == 3000
    assert resource._escalate(capped, SlurmState.OUT_OF_MEMORY) is None
    more_time = resource._escalate(spec, SlurmState.TIMEOUT)
    assert more_time is not None and more_time.time_limit_minutes == 90
    assert resource._escalate(spec, SlurmState.FAILED) is None


# -- nextflow -----------------------------------------------------------------------------------


def test_nextflow_command_line() -> None:
    job = NextflowJob(
        name="amplicon-ERP1",
        pipeline="ebi-metagenomics/amplicon-pipeline",
        revision="v6.0.4",
        profile="codon_slurm",
        config_files=("/c/site.config",),
        samplesheet="/s/sheet.csv",
        outdir="/o",
        work_dir="/w",
        trace_file="/o/trace.txt",
        launch_dir="/l",
        params={"mode": "fast", "skip_qc": True, "threads": 4},
    )
    assert job.command() == [
        "nextflow",
        "run",
        "ebi-metagenomics/amplicon-pipeline",
        "-r",
        "v6.0.4",
        "-profile",
        "codon_slurm",
        "-c",
        "/c/site.config",
        "-resume",
        "-work-dir",
        "/w",
        "--input",
        "/s/sheet.csv",
        "--outdir",
        "/o",
        "-with-trace",
        "/o/trace.txt",
        "-ansi-log",
        "false",
        "--mode",
        "fast",
        "--skip_qc",
        "--threads",
        "4",
    ]
    spec = job.to_job_spec()
    assert spec.input_files == ("/s/sheet.csv", "/c/site.config")
    assert spec.working_dir == "/l"
    assert shlex.join(job.command()) in (spec.script or "")


def test_nextflow_trace_is_parsed() -> None:
    trace = (
        "task_id\thash\tnative_id\tname\tstatus\texit\tsubmit\tduration\trealtime\t%cpu\t"
        "peak_rss\tpeak_vmem\trchar\twchar\n"
        "1\tab/123456\t4242\tFASTP (A)\tCOMPLETED\t0\t2024-01-01 10:00:00.000\t1m 2s\t850ms\t"
        "95.3%\t12.3 MB\t20 MB\t1 MB\t3 KB\n"
        "2\tcd/654321\t4243\tMAPSEQ (A)\tFAILED\t137\t2024-01-01 10:01:00.000\t1h 1m 1.5s\t-\t"
        "-\t-\t-\t-\t-\n"
    )
    tasks = parse_trace(trace)
    assert [(t.name, t.status, t.exit) for t in tasks] == [
        ("FASTP (A)", "COMPLETED", 0),
        ("MAPSEQ (A)", "FAILED", 137),
    ]
    assert tasks[0].duration_seconds == 62 and tasks[0].realtime_seconds == 0.85
    assert tasks[0].peak_rss_bytes == int(12.3 * (1 << 20))
    assert tasks[1].duration_seconds == 3661.5 and tasks[1].peak_rss_bytes is None
    assert parse_duration("2d 3h") == 2 * 86400 + 3 * 3600
    assert parse_memory("1 GB") == 1 << 30 and parse_memory("512") == 512


# -- monitor with a scripted transport ----------------------------------------------------------


class ScriptedTransport:
    """Answers sacct from a table of job states; can fail a number of sacct calls."""

    user = "tester"

    def __init__(self) -> None:
        self.states: dict[int, str] = {}
        self.fail_next = 0
        self.calls: list[list[str]] = []
        self.visible: set[int] | None = None  # jobs sacct knows (None: all)

    def run(
        self, argv: Sequence[str], *, timeout: float | None = 60.0, idempotent: bool = True
    ) -> CommandResult:
        argv = list(argv)
        self.calls.append(argv)
        if argv[0] == "sacct" and self.fail_next > 0:
            self.fail_next -= 1
            return CommandResult(1, "", "sacct: error: Problem talking to the database")
        if argv[0] == "squeue":
            return CommandResult(0, "", "")
        ids = argv[argv.index("-j") + 1].split(",")
        lines = []
        for item in ids:
            base, _, step = item.partition(".")
            job_id = int(base)
            if self.visible is not None and job_id not in self.visible:
                continue
            if step == "batch":
                lines.append(f"{job_id}.batch|2048K")
            else:
                state = self.states.get(job_id, "RUNNING")
                code = "3:0" if state == "FAILED" else "0:0"
                lines.append(f"{job_id}|n{job_id}|{state}|{code}|5|vm|None")
        return CommandResult(0, "\n".join(lines) + "\n", "")


def test_one_sacct_call_per_150_jobs_per_round() -> None:
    transport = ScriptedTransport()
    monitor = JobMonitor(transport, poll_interval=60, autostart=False)
    for job_id in range(1, 401):
        monitor.track(job_id)
    monitor.poll_once()
    assert [c[0] for c in transport.calls] == ["sacct"] * 3
    assert all(len(c[c.index("-j") + 1].split(",")) <= 150 for c in transport.calls)
    transport.calls.clear()
    for job_id in range(1, 401):
        transport.states[job_id] = "COMPLETED"
    monitor.poll_once()
    # 3 state calls, then 3 MaxRSS calls for the 400 jobs that just ended; then nothing left.
    assert len(transport.calls) == 6
    assert monitor.status(7).final and monitor.status(7).max_rss_bytes == 2048 * 1024
    transport.calls.clear()
    monitor.poll_once()
    assert transport.calls == []
    monitor.stop()


def test_sacct_failures_and_lag_never_fail_a_job() -> None:
    transport = ScriptedTransport()
    monitor = JobMonitor(transport, poll_interval=60, autostart=False)
    monitor.track(1)
    transport.visible = set()  # sacct lags: it does not know the job yet
    monitor.poll_once()
    assert monitor.status(1).state is SlurmState.SUBMITTED
    assert monitor.status(1).outcome is JobOutcome.RUNNING
    transport.visible = None
    transport.states[1] = "FAILED"
    transport.fail_next = 3
    for _ in range(3):
        monitor.poll_once()
        assert monitor.status(1).outcome is JobOutcome.RUNNING
    assert monitor.stats.failed_calls == 3
    monitor.poll_once()
    status = monitor.status(1)
    assert status.final and status.state is SlurmState.FAILED and status.exit_code == 3
    assert status.reason == "exit code 3"
    monitor.stop()


def test_a_job_unknown_to_sacct_and_squeue_is_lost_only_after_the_grace_period() -> None:
    transport = ScriptedTransport()
    transport.visible = set()
    monitor = JobMonitor(transport, poll_interval=60, lost_after=0.2, autostart=False)
    monitor.track(5)
    monitor.poll_once()
    assert monitor.status(5).outcome is JobOutcome.RUNNING
    time.sleep(0.3)
    monitor.poll_once()
    assert monitor.status(5).state is SlurmState.LOST and monitor.status(5).final
    monitor.stop()


def test_waiters_in_many_threads_share_one_poller() -> None:
    transport = ScriptedTransport()
    monitor = JobMonitor(transport, poll_interval=0.05)
    results: dict[int, SlurmState] = {}

    def waiter(job_id: int) -> None:
        monitor.track(job_id)
        while not monitor.status(job_id).final:
            monitor.wait(job_id, 1.0)
        results[job_id] = monitor.status(job_id).state
        monitor.release(job_id)

    threads = [threading.Thread(target=waiter, args=(i,)) for i in range(1, 21)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    for i in range(1, 21):
        transport.states[i] = "COMPLETED" if i % 2 else "TIMEOUT"
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 20
    assert results[1] is SlurmState.COMPLETED and results[2] is SlurmState.TIMEOUT
    per_round = [c for c in monitor.stats.calls_per_round if c]
    assert max(per_round) <= 2  # one state call (+ one MaxRSS call), however many waiters
    monitor.stop()


def test_resource_is_built_from_a_slurm_config_section(tmp_path: Path) -> None:
    """Duck-typed: the same attribute names and types as ``EMGConfig.slurm`` (no Django here)."""
    import enum
    from types import SimpleNamespace

    class Kind(enum.Enum):
        SSH = "ssh"

    config = SimpleNamespace(
        transport=Kind.SSH,
        ssh_host="login.example.org",
        ssh_port=22,
        ssh_user="emg",
        ssh_key_path=tmp_path / "id",
        ssh_known_hosts_path=tmp_path / "known_hosts",
        slurm_conf=None,
        partition="standard",
        datamover_partition="datamover",
        account="mg",
        max_incomplete_jobs=50,
        poll_interval_seconds=30.0,
        work_dir=tmp_path / "work",
    )
    resource = SlurmResource.from_config(config, max_escalations=1)
    assert resource.transport == "ssh" and resource.ssh_key_path == str(tmp_path / "id")
    assert resource.work_dir == str(tmp_path / "work") and resource.max_escalations == 1
