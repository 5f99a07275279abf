"""The process supervisor of the ``embedded`` transport: one per job, detached from its parent.

Run as a script (``python embedded_supervisor.py STATE_DIR JOB_ID``), standard library only, so it
starts fast and outlives the Dagster process that submitted the job -- which is what lets a
restarted process reattach. It plays slurmd's part for one job: runs the job script with bash in
its own process group, enforces the time limit (TIMEOUT), handles ``scancel`` (SIGTERM to this
process -> CANCELLED), and records state, exit code, elapsed time and MaxRSS in the job's JSON
record. The record helpers below are shared with :mod:`slurm_resource.transports.embedded`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Seconds between SIGTERM and SIGKILL when a job is cancelled or times out (Slurm's KillWait).
KILL_WAIT = 5.0


def record_path(state_dir: Path, job_id: int) -> Path:
    return state_dir / "jobs" / f"{job_id}.json"


def read_record(state_dir: Path, job_id: int) -> dict[str, Any]:
    return json.loads(record_path(state_dir, job_id).read_text())


def write_record(state_dir: Path, record: dict[str, Any]) -> None:
    """Replace a record atomically (readers never see a half-written file)."""
    path = record_path(state_dir, int(record["id"]))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(path)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the job's process group, SIGKILL it after KILL_WAIT seconds."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=KILL_WAIT)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return


def supervise(state_dir: Path, job_id: int) -> None:
    record = read_record(state_dir, job_id)
    if record["state"] != "PENDING":
        return
    cancel_requested: dict[str, str | None] = {"by": None}

    cancel_file = state_dir / "jobs" / f"{job_id}.cancel"

    def on_term(_signo: int, _frame: object) -> None:
        by = cancel_file.read_text().strip() if cancel_file.exists() else str(os.getuid())
        cancel_requested["by"] = by

    signal.signal(signal.SIGTERM, on_term)
    # The job may have been cancelled between sbatch and this process starting.
    if cancel_file.exists():
        by = cancel_file.read_text().strip()
        record.update(state="CANCELLED", reason=f"by {by}", end=time.time(), exit_code=0, signal=0)
        write_record(state_dir, record)
        return

    env = dict(os.environ)
    env.update(
        SLURM_JOB_ID=str(job_id),
        SLURM_JOBID=str(job_id),
        SLURM_JOB_NAME=record["name"],
        SLURM_SUBMIT_DIR=record["submit_dir"],
        SLURM_JOB_PARTITION=record["partition"],
        SLURM_CPUS_PER_TASK=str(record["cpus"]),
    )
    output = Path(record["output"])
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with output.open("ab") as out:
        proc = subprocess.Popen(
            ["bash", record["script"]],
            cwd=record["chdir"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: cancel/timeout kill all of it
        )
    record.update(state="RUNNING", start=started, job_pid=proc.pid, supervisor_pid=os.getpid())
    write_record(state_dir, record)

    deadline = started + 60 * int(record["time_limit_minutes"])
    final_state: str | None = None
    reason = ""
    while True:
        try:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status, rusage = proc.pid, 0, None
        if pid == proc.pid:
            break
        if cancel_requested["by"] is None and cancel_file.exists():
            # scancel found no supervisor pid yet (we had not recorded it): it left the file.
            cancel_requested["by"] = cancel_file.read_text().strip()
        if cancel_requested["by"] is not None and final_state is None:
            final_state, reason = "CANCELLED", f"by {cancel_requested['by']}"
            _kill_group(proc)
        elif time.time() >= deadline and final_state is None:
            final_state = "TIMEOUT"
            _kill_group(proc)
        time.sleep(0.1)

    exit_code = os.waitstatus_to_exitcode(status) if rusage is not None else 0
    code, sig = (exit_code, 0) if exit_code >= 0 else (0, -exit_code)
    if final_state is None:
        final_state = "COMPLETED" if code == 0 and sig == 0 else "FAILED"
    record.update(
        state=final_state,
        reason=reason,
        end=time.time(),
        exit_code=code,
        signal=sig,
        max_rss_kb=int(rusage.ru_maxrss) if rusage is not None else 0,  # KiB on Linux
    )
    write_record(state_dir, record)


if __name__ == "__main__":
    supervise(Path(sys.argv[1]), int(sys.argv[2]))
