"""Benchmark: track 1,000 concurrent Slurm jobs with one sacct call per 150 jobs per interval.

Submits 1,000 real held jobs (``sbatch --hold``: they stay PENDING, so all 1,000 are
"concurrent"), tracks them with :class:`slurm_resource.JobMonitor` through the ``local`` and
``ssh`` transports, and reports per poll round: sacct calls, wall time, CPU of this process and
CPU of the sacct child processes. Then cancels them all and reports the round that collects
their final states and MaxRSS. For contrast it times per-job polling (one sacct per job).

Run with the dev cluster up::

    eval "$(slurm-dev-environment/slurm-dev env)"
    .venv/bin/python bench/slurm_monitor.py [--jobs 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import resource as rusage
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slurm_resource.monitor import JobMonitor  # noqa: E402
from slurm_resource.states import SlurmState  # noqa: E402
from slurm_resource.transports.base import Transport  # noqa: E402
from slurm_resource.transports.local import LocalTransport  # noqa: E402
from slurm_resource.transports.ssh import SSHTransport  # noqa: E402


def children_cpu() -> float:
    usage = rusage.getrusage(rusage.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def submit_held(n: int, workdir: Path) -> list[int]:
    script = workdir / "held.sh"
    script.write_text("#!/bin/bash\ntrue\n")
    # One shell runs all sbatch calls (the submission cost is not what is measured here).
    loop = (
        f"for i in $(seq 1 {n}); do sbatch --parsable --hold --job-name=bench-held "
        f"--output=/dev/null --chdir={workdir} {script}; done"
    )
    out = subprocess.run(["bash", "-c", loop], capture_output=True, text=True, check=True)
    return [int(line.split(";")[0]) for line in out.stdout.split()]


def measure(label: str, transport: Transport, ids: list[int], rounds: int) -> None:
    monitor = JobMonitor(transport, poll_interval=10, autostart=False)
    for job_id in ids:
        monitor.track(job_id)
    print(f"\n[{label}] tracking {len(ids)} jobs")
    for r in range(rounds):
        calls0, child0, t0 = monitor.stats.sacct_calls, children_cpu(), time.monotonic()
        cpu0 = time.process_time()
        monitor.poll_once()
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        child = children_cpu() - child0
        states = {monitor.status(i).state for i in ids}
        print(
            f"  round {r + 1}: sacct calls {monitor.stats.sacct_calls - calls0}, "
            f"wall {wall * 1000:.0f} ms, CPU this process {cpu * 1000:.1f} ms, "
            f"CPU sacct children {child * 1000:.1f} ms, states {sorted(s.value for s in states)}"
        )
    monitor.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if "SLURM_CONF" not in os.environ:
        sys.exit('run `eval "$(slurm-dev-environment/slurm-dev env)"` first')
    work = Path(os.environ.get("SLURM_DEV_WORK_DIR", tempfile.gettempdir())) / "bench-monitor"
    work.mkdir(parents=True, exist_ok=True)

    t0 = time.monotonic()
    ids = submit_held(args.jobs, work)
    print(f"submitted {len(ids)} held jobs in {time.monotonic() - t0:.1f} s")
    local = LocalTransport(os.environ["SLURM_CONF"])
    ssh = SSHTransport(
        os.environ["EMG_SLURM__SSH_HOST"],
        int(os.environ["EMG_SLURM__SSH_PORT"]),
        os.environ["EMG_SLURM__SSH_USER"],
        os.environ["EMG_SLURM__SSH_KEY_PATH"],
        os.environ["EMG_SLURM__SSH_KNOWN_HOSTS_PATH"],
    )
    try:
        # sacct lags: wait until it knows all the jobs before measuring steady-state rounds.
        time.sleep(2)
        measure("local", local, ids, args.rounds)
        measure("ssh", ssh, ids, args.rounds)

        # Contrast: per-job polling, 20 single-job sacct calls extrapolated to all jobs.
        t0 = time.monotonic()
        for job_id in ids[:20]:
            local.run(["sacct", "-X", "-P", "-n", "-j", str(job_id), "-o", "JobIDRaw,State"])
        per_call = (time.monotonic() - t0) / 20
        print(
            f"\nper-job polling: {per_call * 1000:.0f} ms per sacct call -> "
            f"{per_call * len(ids):.0f} s per round for {len(ids)} jobs"
        )

        # Contrast: the same 1,000 ids in one unchunked call (fine on this small database; on
        # a big one MariaDB drops the index from ~200 ids on, hence the 150-id chunks).
        t0 = time.monotonic()
        out = local.run(
            ["sacct", "-X", "-P", "-n", "-j", ",".join(map(str, ids)), "-o", "JobIDRaw,State"]
        )
        print(
            f"one unchunked sacct for {len(ids)} ids: {(time.monotonic() - t0) * 1000:.0f} ms, "
            f"{len(out.stdout.splitlines())} lines"
        )

        # All jobs end at once: the round that sees it also collects MaxRSS of the .batch steps.
        monitor = JobMonitor(local, poll_interval=10, autostart=False)
        for job_id in ids:
            monitor.track(job_id)
        monitor.poll_once()
        local.run(["scancel", *map(str, ids)])
        time.sleep(2)
        rounds = 0
        t0 = time.monotonic()
        calls0 = monitor.stats.sacct_calls
        while not all(monitor.status(i).final for i in ids) and rounds < 10:
            monitor.poll_once()
            rounds += 1
        cancelled = sum(monitor.status(i).state is SlurmState.CANCELLED for i in ids)
        print(
            f"\n[local] after scancel of all: {rounds} round(s), "
            f"{monitor.stats.sacct_calls - calls0} sacct calls (states + MaxRSS), "
            f"{(time.monotonic() - t0) * 1000:.0f} ms; {cancelled} CANCELLED"
        )
    finally:
        local.run(["scancel", "--name=bench-held"])
        ssh.close()


if __name__ == "__main__":
    main()
