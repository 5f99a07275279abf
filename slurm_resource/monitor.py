"""One poller for every job a process waits on.

Each poll round asks ``sacct`` about all tracked, unfinished jobs at once (one call per 150 ids),
then -- once, for the jobs that just ended -- asks for their ``.batch`` step's MaxRSS. Waiting
threads block on a condition variable and wake after each round. A failing ``sacct`` (slurmdbd
restarting, a dropped SSH connection) leaves every status as it was: a job is never declared
failed because monitoring hiccupped. A job that ``sacct`` does not know yet (it lags ``squeue``)
stays ``SUBMITTED``; only if neither ``sacct`` nor ``squeue`` has known it for ``lost_after``
seconds is it declared ``LOST``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace

from slurm_resource import sacct
from slurm_resource.errors import SlurmTransportError
from slurm_resource.states import JobOutcome, ParsedState, SlurmState
from slurm_resource.transports.base import Transport

#: Rounds to wait for a finished job's ``.batch`` MaxRSS before reporting it unknown.
_MAX_RSS_ROUNDS = 3


@dataclass(frozen=True)
class JobStatus:
    """What the monitor knows about one job.

    :param job_id: Slurm job id.
    :param state: the state (``SUBMITTED`` until sacct has seen the job).
    :param detail: the state's suffix, e.g. ``by 0`` for ``CANCELLED by 0``.
    :param exit_code: exit code (meaningful once finished).
    :param signal: terminating signal, 0 if none.
    :param elapsed_seconds: run time so far.
    :param node: node(s) the job ran on.
    :param slurm_reason: Slurm's reason column (why pending; e.g. ``Priority``, ``Resources``).
    :param max_rss_bytes: MaxRSS of the batch step (``None`` until known or if not recorded).
    :param final: whether the job has ended and everything about it has been collected.
    """

    job_id: int
    state: SlurmState = SlurmState.SUBMITTED
    detail: str = ""
    exit_code: int | None = None
    signal: int | None = None
    elapsed_seconds: int = 0
    node: str | None = None
    slurm_reason: str | None = None
    max_rss_bytes: int | None = None
    final: bool = False

    @property
    def outcome(self) -> JobOutcome:
        return ParsedState(self.state, self.detail).outcome

    @property
    def reason(self) -> str:
        """Why the job failed, with its exit code or signal (empty unless failed)."""
        base = ParsedState(self.state, self.detail).reason
        if not base:
            return ""
        if self.state is SlurmState.FAILED and self.exit_code is not None:
            base = f"exit code {self.exit_code}"
            if self.signal:
                base += f", signal {self.signal}"
        return base


@dataclass
class _Tracked:
    status: JobStatus
    waiters: int = 0
    missing_since: float | None = None
    rss_rounds: int = 0


@dataclass
class MonitorStats:
    """Counters for tests and benchmarks.

    :param rounds: poll rounds run.
    :param sacct_calls: sacct invocations (allocation and MaxRSS queries).
    :param failed_calls: sacct/squeue calls that failed and were retried later.
    :param last_round_cpu_seconds: CPU time this process spent in the last round.
    :param last_round_wall_seconds: wall time of the last round.
    """

    rounds: int = 0
    sacct_calls: int = 0
    failed_calls: int = 0
    last_round_cpu_seconds: float = 0.0
    last_round_wall_seconds: float = 0.0
    calls_per_round: list[int] = field(default_factory=list)


class JobMonitor:
    """Polls all tracked jobs of one cluster; shared by every thread of the process.

    :param transport: how to reach the cluster.
    :param poll_interval: seconds between rounds.
    :param logger: where transient failures are reported.
    :param lost_after: seconds a job may be unknown to sacct and squeue before it is ``LOST``.
    :param autostart: start the poller thread on the first :meth:`track` (off: the caller runs
        :meth:`poll_once` itself, as unit tests and benchmarks do).
    """

    def __init__(
        self,
        transport: Transport,
        poll_interval: float,
        logger: logging.Logger | None = None,
        lost_after: float = 900.0,
        autostart: bool = True,
    ):
        self.transport = transport
        self.poll_interval = poll_interval
        self.log = logger or logging.getLogger(__name__)
        self.lost_after = lost_after
        self.autostart = autostart
        self.stats = MonitorStats()
        self._jobs: dict[int, _Tracked] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._generation = 0
        self._stop = False

    # -- tracking ------------------------------------------------------------------------

    def track(self, job_id: int) -> None:
        """Start following a job (idempotent; counted: call :meth:`release` once per track)."""
        with self._cond:
            tracked = self._jobs.get(job_id)
            if tracked is None:
                tracked = self._jobs[job_id] = _Tracked(JobStatus(job_id))
            tracked.waiters += 1
            if self.autostart and (self._thread is None or not self._thread.is_alive()):
                self._stop = False
                self._thread = threading.Thread(
                    target=self._loop, name="slurm-monitor", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def release(self, job_id: int) -> None:
        """Stop following a job once no caller waits on it."""
        with self._cond:
            tracked = self._jobs.get(job_id)
            if tracked is None:
                return
            tracked.waiters -= 1
            if tracked.waiters <= 0:
                del self._jobs[job_id]

    def status(self, job_id: int) -> JobStatus:
        """The latest status of a tracked job."""
        with self._cond:
            return self._jobs[job_id].status

    def wait(self, job_id: int, timeout: float) -> JobStatus:
        """Block until the next poll round has run (or ``timeout``); return the job's status.

        Returns at once if the job is already final.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            generation = self._generation
            while True:
                status = self._jobs[job_id].status
                if status.final or self._generation != generation:
                    return status
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return status
                self._cond.wait(remaining)

    def stop(self) -> None:
        """Stop the poller thread (it restarts on the next :meth:`track`)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # -- polling -------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stop and not any(not t.status.final for t in self._jobs.values()):
                    self._cond.wait()
                if self._stop:
                    return
            try:
                self.poll_once()
            except Exception:
                # The poller must survive anything (waiters depend on it): log with traceback.
                self.log.exception("Slurm monitor round failed; retrying next interval")
            with self._cond:
                if self._stop:
                    return
                self._cond.wait(self.poll_interval)

    def _run_sacct(self, argv: list[str]) -> str | None:
        """Run one sacct/squeue call; ``None`` (logged, counted) if it failed."""
        if argv[0] == "sacct":
            self.stats.sacct_calls += 1
        try:
            result = self.transport.run(argv, timeout=120)
        except SlurmTransportError as exc:
            self.stats.failed_calls += 1
            self.log.warning("%s failed (%s); keeping last known states, retrying", argv[0], exc)
            return None
        if not result.ok:
            self.stats.failed_calls += 1
            self.log.warning(
                "%s exited %s (%s); keeping last known states, retrying",
                argv[0],
                result.rc,
                result.stderr.strip()[:500],
            )
            return None
        return result.stdout

    def poll_once(self) -> None:
        """One round: states of all unfinished jobs, MaxRSS of the ones that just ended."""
        cpu0, wall0 = time.thread_time(), time.monotonic()
        calls0 = self.stats.sacct_calls
        with self._cond:
            active = sorted(j for j, t in self._jobs.items() if not t.status.final)
        seen: dict[int, sacct.SacctRecord] = {}
        answered: set[int] = set()
        for chunk in sacct.chunked(active):
            out = self._run_sacct(sacct.allocations_argv(chunk))
            if out is None:
                continue
            try:
                records = sacct.parse_allocations(out)
            except ValueError as exc:
                self.stats.failed_calls += 1
                self.log.error("cannot parse sacct output (%s); retrying next round", exc)
                continue
            answered.update(chunk)
            seen.update((r.job_id, r) for r in records)

        now = time.monotonic()
        with self._cond:
            ended: list[int] = []
            for job_id in answered:
                tracked = self._jobs.get(job_id)
                if tracked is None:
                    continue
                record = seen.get(job_id)
                if record is None:
                    if tracked.missing_since is None:
                        tracked.missing_since = now
                    continue
                tracked.missing_since = None
                tracked.status = replace(
                    tracked.status,
                    state=record.state.state,
                    detail=record.state.detail,
                    exit_code=record.exit_code,
                    signal=record.signal,
                    elapsed_seconds=record.elapsed_seconds,
                    node=record.node or tracked.status.node,
                    slurm_reason=record.reason,
                )
                if record.state.outcome is not JobOutcome.RUNNING:
                    if record.node is None:
                        # Never ran (cancelled while pending): it has no .batch step to ask.
                        tracked.status = replace(tracked.status, final=True)
                    else:
                        ended.append(job_id)
            # Jobs that ended earlier but whose MaxRSS query failed or lagged.
            ended.extend(
                j
                for j, t in self._jobs.items()
                if t.status.outcome is not JobOutcome.RUNNING
                and not t.status.final
                and j not in ended
                and t.rss_rounds > 0
            )
            long_missing = [
                j
                for j, t in self._jobs.items()
                if t.missing_since is not None and now - t.missing_since > self.lost_after
            ]

        if ended:
            self._collect_max_rss(sorted(set(ended)))
        if long_missing:
            self._check_lost(long_missing)

        with self._cond:
            self._generation += 1
            self.stats.rounds += 1
            self.stats.calls_per_round.append(self.stats.sacct_calls - calls0)
            del self.stats.calls_per_round[:-1000]
            self.stats.last_round_cpu_seconds = time.thread_time() - cpu0
            self.stats.last_round_wall_seconds = time.monotonic() - wall0
            self._cond.notify_all()

    def _collect_max_rss(self, job_ids: list[int]) -> None:
        rss: dict[int, int | None] = {}
        for chunk in sacct.chunked(job_ids):
            out = self._run_sacct(sacct.max_rss_argv(chunk))
            if out is not None:
                rss.update(sacct.parse_max_rss(out))
        with self._cond:
            for job_id in job_ids:
                tracked = self._jobs.get(job_id)
                if tracked is None:
                    continue
                tracked.rss_rounds += 1
                value = rss.get(job_id)
                if value is not None or tracked.rss_rounds >= _MAX_RSS_ROUNDS:
                    tracked.status = replace(tracked.status, max_rss_bytes=value, final=True)

    def _check_lost(self, job_ids: list[int]) -> None:
        # All of the user's queued jobs, not `squeue -j`: that fails outright for unknown ids.
        out = self._run_sacct(sacct.squeue_argv(user=self.transport.user))
        if out is None:
            return
        known = {job_id for job_id, _, _ in sacct.parse_squeue(out)}
        with self._cond:
            for job_id in job_ids:
                tracked = self._jobs.get(job_id)
                if tracked is None or job_id in known:
                    if tracked is not None:
                        tracked.missing_since = time.monotonic()
                    continue
                self.log.error(
                    "job %s unknown to sacct and squeue for %.0f s: declaring it LOST",
                    job_id,
                    self.lost_after,
                )
                tracked.status = replace(tracked.status, state=SlurmState.LOST, final=True)
