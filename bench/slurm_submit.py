"""Benchmark: orchestration overhead of ``SlurmResource.submit`` beyond ``sbatch`` itself.

Submits N short jobs (``true``) through the ``local`` and ``ssh`` transports and times, per job,
the whole ``submit`` (hash, job dir, script, spec, throttle check, sbatch, job id record) and
the ``sbatch`` command alone (timed inside the transport). Overhead = submit - sbatch.
Targets: <= 50 ms per job local, <= 250 ms per job ssh. Also times ``embedded`` for reference.

Run with the dev cluster up::

    eval "$(slurm-dev-environment/slurm-dev env)"
    .venv/bin/python bench/slurm_submit.py [--jobs 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slurm_resource import JobSpec, SlurmResource  # noqa: E402
from slurm_resource.transports.base import CommandResult  # noqa: E402


class SbatchTimer:
    """Wraps a transport's ``run`` to time the sbatch calls."""

    def __init__(self, transport: Any):
        self.transport = transport
        self.original = transport.run
        self.sbatch_seconds: list[float] = []
        transport.run = self.run

    def run(self, argv: Sequence[str], **kwargs: Any) -> CommandResult:
        t0 = time.perf_counter()
        result = self.original(argv, **kwargs)
        if argv[0] == "sbatch":
            self.sbatch_seconds.append(time.perf_counter() - t0)
        return result

    def restore(self) -> None:
        self.transport.run = self.original


def bench(label: str, resource: SlurmResource, n: int, target_ms: float | None) -> None:
    transport = resource.get_transport()
    # Warm-up (connection, first throttle squeue) reported separately, not in the per-job mean.
    t0 = time.perf_counter()
    resource.submit(JobSpec(name="warmup", command=("true",)))
    warmup = time.perf_counter() - t0
    timer = SbatchTimer(transport)
    totals = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            resource.submit(JobSpec(name=f"bench-{i}", command=("true",), time_limit_minutes=5))
            totals.append(time.perf_counter() - t0)
    finally:
        timer.restore()
    sbatch = timer.sbatch_seconds
    overhead = [t - s for t, s in zip(totals, sbatch, strict=True)]
    verdict = ""
    if target_ms is not None:
        mean_ms = statistics.mean(overhead) * 1000
        verdict = f"  [{'PASS' if mean_ms <= target_ms else 'MISS'} target <= {target_ms:.0f} ms]"
    print(
        f"{label:9s} {n} jobs: submit {statistics.mean(totals) * 1000:6.1f} ms/job, "
        f"sbatch {statistics.mean(sbatch) * 1000:6.1f} ms/job, "
        f"overhead mean {statistics.mean(overhead) * 1000:5.1f} ms, "
        f"median {statistics.median(overhead) * 1000:5.1f} ms, "
        f"max {max(overhead) * 1000:5.1f} ms (first submit incl. connect {warmup * 1000:.0f} ms)"
        + verdict
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    args = parser.parse_args()
    if "SLURM_CONF" not in os.environ:
        sys.exit('run `eval "$(slurm-dev-environment/slurm-dev env)"` first')
    base = Path(os.environ["SLURM_DEV_WORK_DIR"]) / f"bench-submit-{uuid.uuid4().hex[:8]}"
    base.mkdir(parents=True)
    base.chmod(0o1777)
    common: dict[str, Any] = {"max_incomplete_jobs": 100_000, "poll_interval_seconds": 10}
    local = SlurmResource(
        transport="local",
        slurm_conf=os.environ["SLURM_CONF"],
        work_dir=str(base / "local"),
        **common,
    )
    ssh = SlurmResource(
        transport="ssh",
        work_dir=str(base / "ssh"),
        ssh_host=os.environ["EMG_SLURM__SSH_HOST"],
        ssh_port=int(os.environ["EMG_SLURM__SSH_PORT"]),
        ssh_user=os.environ["EMG_SLURM__SSH_USER"],
        ssh_key_path=os.environ["EMG_SLURM__SSH_KEY_PATH"],
        ssh_known_hosts_path=os.environ["EMG_SLURM__SSH_KNOWN_HOSTS_PATH"],
        **common,
    )
    embedded = SlurmResource(transport="embedded", work_dir=str(base / "embedded"), **common)
    bench("local", local, args.jobs, 50)
    bench("ssh", ssh, args.jobs, 250)
    bench("embedded", embedded, args.jobs, None)


if __name__ == "__main__":
    main()
