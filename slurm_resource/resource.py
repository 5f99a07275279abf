"""The Dagster resource: submit-or-reattach, wait (with logs), cancel, results.

Usage from an asset::

    result = slurm.run(JobSpec(name="qc", command=("fastp", "-i", path)), context=context)
    context.add_output_metadata(result.to_metadata())

Usage from plain Python (tests, benchmarks)::

    slurm = SlurmResource(transport="local", slurm_conf="/etc/slurm/slurm.conf")
    result = slurm.run(spec, log=logging.getLogger("jobs"))
"""

from __future__ import annotations

import enum
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from slurm_resource import sacct
from slurm_resource.errors import SlurmCommandError, SlurmError, SlurmTransportError
from slurm_resource.job_spec import JobSpec
from slurm_resource.monitor import JobMonitor, JobStatus
from slurm_resource.states import INFRASTRUCTURE_FAILURES, JobOutcome, SlurmState, outcome_of
from slurm_resource.transports.base import Transport

logger = logging.getLogger(__name__)

#: What the resource logs to: a ``logging.Logger`` or Dagster's ``context.log``.
LogLike = Any


class TransportKind(enum.StrEnum):
    """How Slurm is reached (the same names as ``EMGConfig.slurm.transport``)."""

    SSH = "ssh"
    LOCAL = "local"
    EMBEDDED = "embedded"


class ResubmitPolicy(enum.StrEnum):
    """What to do when the job found for a spec has already failed."""

    #: Submit a new job (a retried Dagster step reruns the work).
    ALWAYS = "always"
    #: Only after failures of the infrastructure (NODE_FAIL, BOOT_FAIL, PREEMPTED, LOST).
    INFRASTRUCTURE = "infrastructure"
    #: Report the old failure again.
    NEVER = "never"


class CancelPolicy(enum.StrEnum):
    """When an interrupted wait cancels its Slurm job."""

    #: Only when the Dagster run is being cancelled (CANCELING/CANCELED in the instance), or on
    #: an interrupt outside Dagster (Ctrl-C). A SIGTERM from, e.g., a pod eviction leaves the job
    #: running for the retried step to reattach to.
    ON_RUN_CANCEL = "on_run_cancel"
    #: On any interrupt.
    ON_INTERRUPT = "on_interrupt"
    #: Never (the job keeps running; a later step reattaches).
    NEVER = "never"


@dataclass(frozen=True)
class SlurmJobHandle:
    """A submitted (or found) job.

    :param job_id: Slurm job id (store it: e.g. in materialisation metadata).
    :param job_name: Slurm job name (prefix, spec name, spec hash).
    :param job_dir: the job's directory on the cluster (script, logs, job id record).
    :param spec: the spec, with the resource's defaults filled in.
    :param reattached: whether an existing job was found instead of submitting.
    """

    job_id: int
    job_name: str
    job_dir: str
    spec: JobSpec
    reattached: bool = False

    @property
    def log_path(self) -> str:
        return f"{self.job_dir}/slurm-{self.job_id}.log"


@dataclass(frozen=True)
class SlurmJobResult:
    """A finished job.

    :param previous_job_ids: earlier attempts (escalated retries) of the same work.
    """

    job_id: int
    job_name: str
    state: SlurmState
    outcome: JobOutcome
    reason: str
    exit_code: int | None
    signal: int | None
    elapsed_seconds: int
    max_rss_bytes: int | None
    node: str | None
    log_path: str
    log_tail: tuple[str, ...] = ()
    reattached: bool = False
    previous_job_ids: tuple[int, ...] = ()
    spec: JobSpec | None = field(default=None, compare=False)

    @property
    def succeeded(self) -> bool:
        return self.outcome is JobOutcome.SUCCEEDED

    def to_metadata(self) -> dict[str, dg.MetadataValue]:
        """Dagster metadata: job id, state, elapsed, MaxRSS, exit code, node, log path."""
        meta: dict[str, dg.MetadataValue] = {
            "slurm_job_id": dg.MetadataValue.int(self.job_id),
            "slurm_job_name": dg.MetadataValue.text(self.job_name),
            "slurm_state": dg.MetadataValue.text(self.state.value),
            "slurm_elapsed_seconds": dg.MetadataValue.int(self.elapsed_seconds),
            "slurm_exit_code": dg.MetadataValue.int(self.exit_code or 0),
            "slurm_node": dg.MetadataValue.text(self.node or ""),
            "slurm_log_path": dg.MetadataValue.path(self.log_path),
            "slurm_reattached": dg.MetadataValue.bool(self.reattached),
        }
        if self.max_rss_bytes is not None:
            meta["slurm_max_rss_bytes"] = dg.MetadataValue.int(self.max_rss_bytes)
            meta["slurm_max_rss_mib"] = dg.MetadataValue.float(
                round(self.max_rss_bytes / (1 << 20), 1)
            )
        if self.signal:
            meta["slurm_signal"] = dg.MetadataValue.int(self.signal)
        if self.reason:
            meta["slurm_failure_reason"] = dg.MetadataValue.text(self.reason)
        if self.previous_job_ids:
            meta["slurm_previous_job_ids"] = dg.MetadataValue.text(
                ",".join(str(i) for i in self.previous_job_ids)
            )
        if self.log_tail and not self.succeeded:
            meta["slurm_log_tail"] = dg.MetadataValue.md(
                "```\n" + "\n".join(self.log_tail) + "\n```"
            )
        return meta


class SlurmJobFailed(dg.Failure):
    """A Slurm job ended without success; carries the result (and the log's last lines)."""

    def __init__(self, result: SlurmJobResult):
        self.result = result
        tail = "\n".join(result.log_tail)
        description = (
            f"Slurm job {result.job_id} ({result.job_name}) {result.state.value}: {result.reason}"
            + (f"\nLast lines of {result.log_path}:\n{tail}" if tail else "")
        )
        super().__init__(description=description, metadata=result.to_metadata())


# -- process-wide shared state ------------------------------------------------------------
# Resource objects are rebuilt per step, but the SSH connection, the poller and the throttle
# counters belong to the process: one of each per cluster configuration.

_REGISTRY_LOCK = threading.Lock()
_TRANSPORTS: dict[tuple[Any, ...], Transport] = {}
_MONITORS: dict[tuple[Any, ...], JobMonitor] = {}
_THROTTLES: dict[tuple[Any, ...], _Throttle] = {}
_NAME_LOCKS: dict[str, threading.Lock] = {}


class _Throttle:
    """Counts the user's incomplete jobs, re-asking squeue at most once per interval."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.checked_at = -math.inf


def _name_lock(name: str) -> threading.Lock:
    with _REGISTRY_LOCK:
        return _NAME_LOCKS.setdefault(name, threading.Lock())


class _LogStreamer:
    """Follows a job's log file: new complete lines go to the Dagster/Python log."""

    def __init__(
        self, transport: Transport, path: str, log: LogLike, prefix: str, max_lines: int = 200
    ):
        self.transport = transport
        self.path = path
        self.log = log
        self.prefix = prefix
        self.max_lines = max_lines
        self.offset = 0
        self.partial = b""

    def poll(self) -> None:
        try:
            size = self.transport.size(self.path)
            if size is None:
                return
            if size < self.offset:  # the file was replaced (a requeued job starts over)
                self.offset, self.partial = 0, b""
            if size == self.offset:
                return
            # At most 1 MiB per poll; a flood is summarised below, never buffered unbounded.
            start = max(self.offset, size - (1 << 20))
            data = self.transport.read_bytes(self.path, start, size - start)
        except (OSError, SlurmTransportError) as exc:
            self.log.warning(f"{self.prefix} cannot read log {self.path}: {exc}")
            return
        skipped_bytes = start - self.offset
        self.offset = start + len(data)
        data = (b"" if skipped_bytes else self.partial) + data
        *lines, self.partial = data.split(b"\n")
        if skipped_bytes:
            self.log.info(f"{self.prefix} ... {skipped_bytes} bytes of log skipped ...")
        if len(lines) > self.max_lines:
            self.log.info(f"{self.prefix} ... {len(lines) - self.max_lines} lines skipped ...")
            lines = lines[-self.max_lines :]
        if lines:
            text = "\n".join(line.decode("utf-8", "replace") for line in lines)
            self.log.info(f"{self.prefix} {text}")


class SlurmResource(dg.ConfigurableResource):
    """Runs :class:`JobSpec` jobs on Slurm (or, ``embedded``, without it).

    The fields mirror ``EMGConfig.slurm`` (``emg_django.config.SlurmConfig``), with paths as
    strings; the rest tune reattach, retries and logs.
    """

    transport: TransportKind = TransportKind.EMBEDDED
    ssh_host: str = "127.0.0.1"
    ssh_port: int = 22
    ssh_user: str | None = None
    ssh_key_path: str | None = None
    ssh_known_hosts_path: str | None = None
    slurm_conf: str | None = None
    partition: str = "debug"
    datamover_partition: str = "datamover"
    account: str | None = None
    max_incomplete_jobs: int = 100
    poll_interval_seconds: float = 10.0
    work_dir: str = "var/slurm-work"

    job_name_prefix: str = "emg"
    #: Reattach: how far back the name lookup searches sacct for finished jobs.
    reattach_window_hours: float = 7 * 24
    #: Reattach: also search by name when this resource has no record of the spec (work dir
    #: wiped or shared with another tool). Costs a sacct + squeue per new submission.
    always_lookup_by_name: bool = False
    resubmit_failed: ResubmitPolicy = ResubmitPolicy.ALWAYS
    cancel_policy: CancelPolicy = CancelPolicy.ON_RUN_CANCEL
    #: Retries with more memory/time after OUT_OF_MEMORY/TIMEOUT (0: off).
    max_escalations: int = 0
    escalation_factor: float = 2.0
    max_memory_mb: int | None = None
    max_time_limit_minutes: int | None = None
    #: sbatch attempts when sbatch itself fails (controller busy or restarting).
    submit_attempts: int = 5
    stream_logs: bool = True
    failure_log_lines: int = 40
    #: Seconds a job may be unknown to both sacct and squeue before it is declared LOST.
    lost_after_seconds: float = 900.0

    _init_log: Any = PrivateAttr(default=None)
    _instance: Any = PrivateAttr(default=None)
    _run_id: str | None = PrivateAttr(default=None)

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> SlurmResource:
        """Build from an object with the ``SlurmConfig`` attributes (``EMGConfig().slurm``).

        Duck-typed so this package needs no Django: enums become their values, paths strings.

        :param config: the settings object.
        :param overrides: further fields (e.g. ``max_escalations=1``).
        """
        names = (
            "transport",
            "ssh_host",
            "ssh_port",
            "ssh_user",
            "ssh_key_path",
            "ssh_known_hosts_path",
            "slurm_conf",
            "partition",
            "datamover_partition",
            "account",
            "max_incomplete_jobs",
            "poll_interval_seconds",
            "work_dir",
        )
        values: dict[str, Any] = {}
        for name in names:
            value = getattr(config, name)
            if isinstance(value, enum.Enum):
                value = value.value
            elif value is not None and not isinstance(value, (str, int, float, bool)):
                value = str(value)  # pathlib.Path
            values[name] = value
        return cls(**{**values, **overrides})

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Remember the run, to tell a run cancellation from other interrupts.
        self._init_log = context.log
        self._instance = context.instance
        self._run_id = context.run.run_id if context.run is not None else None

    # -- shared per-process objects ------------------------------------------------------

    def _transport_key(self) -> tuple[Any, ...]:
        kind = TransportKind(self.transport)
        if kind is TransportKind.SSH:
            return (
                kind,
                self.ssh_host,
                self.ssh_port,
                self.ssh_user,
                self.ssh_key_path,
                self.ssh_known_hosts_path,
            )
        if kind is TransportKind.LOCAL:
            return (kind, self.slurm_conf)
        return (kind, self._embedded_state_dir())

    def _embedded_state_dir(self) -> str:
        return f"{self.work_dir.rstrip('/')}/.embedded-slurm"

    def get_transport(self) -> Transport:
        """The process-wide transport for this configuration (created on first use)."""
        key = self._transport_key()
        with _REGISTRY_LOCK:
            transport = _TRANSPORTS.get(key)
            if transport is None:
                transport = _TRANSPORTS[key] = self._make_transport()
            return transport

    def _make_transport(self) -> Transport:
        kind = TransportKind(self.transport)
        if kind is TransportKind.SSH:
            from slurm_resource.transports.ssh import SSHTransport

            if not self.ssh_user:
                raise SlurmTransportError("the ssh transport needs ssh_user")
            return SSHTransport(
                host=self.ssh_host,
                port=self.ssh_port,
                user=self.ssh_user,
                key_path=self.ssh_key_path or "",
                known_hosts_path=self.ssh_known_hosts_path or "",
            )
        if kind is TransportKind.LOCAL:
            from slurm_resource.transports.local import LocalTransport

            return LocalTransport(self.slurm_conf)
        from slurm_resource.transports.embedded import EmbeddedTransport

        return EmbeddedTransport(self._embedded_state_dir())

    def get_monitor(self) -> JobMonitor:
        """The process-wide poller for this cluster and poll interval."""
        key = (*self._transport_key(), self.poll_interval_seconds)
        transport = self.get_transport()
        with _REGISTRY_LOCK:
            monitor = _MONITORS.get(key)
            if monitor is None:
                monitor = _MONITORS[key] = JobMonitor(
                    transport,
                    self.poll_interval_seconds,
                    logger=logger,
                    lost_after=self.lost_after_seconds,
                )
            return monitor

    def _throttle_state(self) -> _Throttle:
        with _REGISTRY_LOCK:
            return _THROTTLES.setdefault(self._transport_key(), _Throttle())

    def _log(self, log: LogLike | None, context: Any | None) -> LogLike:
        if log is not None:
            return log
        if context is not None:
            return context.log
        return self._init_log or logger

    # -- submit --------------------------------------------------------------------------

    def prepare(self, spec: JobSpec) -> tuple[JobSpec, str, str, str]:
        """Fill in defaults and compute the hash.

        :returns: ``(spec, digest, job_name, job_dir)``.
        :raises FileNotFoundError: if an input file is missing.
        """
        updates: dict[str, Any] = {}
        if spec.partition is None:
            updates["partition"] = self.partition
        if spec.account is None and self.account:
            updates["account"] = self.account
        if updates:
            spec = spec.model_copy(update=updates)
        digests = self.get_transport().sha256(list(spec.input_files))
        digest = spec.digest(digests)
        name = spec.job_name(self.job_name_prefix, digest)
        return spec, digest, name, f"{self.work_dir.rstrip('/')}/{name}"

    def submit(
        self, spec: JobSpec, *, log: LogLike | None = None, context: Any | None = None
    ) -> SlurmJobHandle:
        """Submit a job, or attach to the job already submitted for the same spec and inputs.

        A job is found (1) through the job id record in the job's directory, or (2) when the
        directory exists without a record -- a process died between ``sbatch`` and writing it --
        or ``always_lookup_by_name`` is set, by name through ``squeue`` and ``sacct``. A found
        job that is pending, running or completed is attached to; a failed one is resubmitted
        according to :attr:`resubmit_failed`.

        :param spec: what to run.
        :param log: where to log (default: the Dagster context's log, else a module logger).
        :param context: a Dagster execution context (its log is used).
        """
        log = self._log(log, context)
        spec, digest, name, job_dir = self.prepare(spec)
        transport = self.get_transport()
        with _name_lock(name):
            found = self._find_existing(name, job_dir)
            if found is not None:
                job_id, state = found
                if not self._should_resubmit(state):
                    log.info(f"Reattached to Slurm job {job_id} ({name}, {state.value})")
                    return SlurmJobHandle(job_id, name, job_dir, spec, reattached=True)
                log.info(f"Slurm job {job_id} ({name}) ended {state.value}: submitting anew")
            transport.makedirs(job_dir)
            script_path = f"{job_dir}/job.sh"
            transport.write_bytes(script_path, spec.render_script(name, digest).encode(), 0o755)
            transport.write_bytes(f"{job_dir}/spec.json", spec.model_dump_json(indent=2).encode())
            argv = spec.sbatch_argv(
                job_name=name,
                script_path=script_path,
                log_path=f"{job_dir}/slurm-%j.log",
                chdir=job_dir,
                partition=spec.partition or self.partition,
                account=spec.account,
            )
            self._wait_for_throttle(log)
            job_id = self._sbatch(argv, name, log)
            self._record_job_id(job_dir, job_id)
            log.info(f"Submitted Slurm job {job_id} ({name}) to partition {spec.partition}")
            return SlurmJobHandle(job_id, name, job_dir, spec)

    def _sbatch(self, argv: list[str], name: str, log: LogLike) -> int:
        transport = self.get_transport()
        delay = 1.0
        for attempt in range(1, self.submit_attempts + 1):
            try:
                result = transport.run(argv, idempotent=False, timeout=120)
            except SlurmTransportError as exc:
                # The connection dropped: sbatch may or may not have run. Look before retrying.
                found = self._lookup_by_name(name)
                if found is not None:
                    return found[0]
                if attempt == self.submit_attempts:
                    raise
                log.warning(f"sbatch failed ({exc}); retrying in {delay:.0f} s")
            else:
                if result.ok:
                    # --parsable prints "id" or "id;cluster".
                    return int(result.stdout.strip().split(";")[0])
                # sbatch exits non-zero only when nothing was submitted: retrying is safe.
                if attempt == self.submit_attempts:
                    raise SlurmCommandError(argv, result.rc, result.stdout, result.stderr)
                log.warning(
                    f"sbatch exited {result.rc} ({result.stderr.strip()}); "
                    f"retrying in {delay:.0f} s"
                )
            time.sleep(delay)
            delay = min(delay * 2, 30.0)
        raise AssertionError("unreachable")

    def _record_job_id(self, job_dir: str, job_id: int) -> None:
        transport = self.get_transport()
        path = f"{job_dir}/jobids"
        previous = transport.read_bytes(path) if transport.exists(path) else b""
        transport.write_bytes(path, previous + f"{job_id}\n".encode())

    def _find_existing(self, name: str, job_dir: str) -> tuple[int, SlurmState] | None:
        transport = self.get_transport()
        ids_path = f"{job_dir}/jobids"
        if transport.exists(ids_path):
            ids = transport.read_bytes(ids_path).decode().split()
            if ids:
                job_id = int(ids[-1])
                state = self._state_of(job_id, name)
                if state is not None:
                    return job_id, state
                # Unknown to sacct and squeue (purged, or another cluster): start anew.
                return None
        if self.always_lookup_by_name or transport.exists(job_dir):
            return self._lookup_by_name(name)
        return None

    def _state_of(self, job_id: int, name: str) -> SlurmState | None:
        """The state of one job from sacct, else squeue (sacct lags it); ``None`` if unknown."""
        records = self._checked(sacct.allocations_argv([job_id]), sacct.parse_allocations)
        for record in records:
            if record.job_id == job_id:
                return record.state.state
        for row_id, state, _ in self._checked(
            sacct.squeue_argv(user=self.get_transport().user, names=[name]), sacct.parse_squeue
        ):
            if row_id == job_id:
                return state.state
        return None

    def _lookup_by_name(self, name: str) -> tuple[int, SlurmState] | None:
        """The newest job with this name: queued (squeue) or active within the window (sacct)."""
        candidates: dict[int, SlurmState] = {}
        for job_id, state, row_name in self._checked(
            sacct.squeue_argv(user=self.get_transport().user, names=[name]), sacct.parse_squeue
        ):
            if row_name == name:
                candidates[job_id] = state.state
        for record in self._checked(
            sacct.by_name_argv([name], self.reattach_window_hours), sacct.parse_allocations
        ):
            if record.name == name:
                candidates.setdefault(record.job_id, record.state.state)
        if not candidates:
            return None
        newest = max(candidates)
        return newest, candidates[newest]

    def _checked(self, argv: list[str], parse: Any, attempts: int = 3) -> Any:
        """Run a query, retrying transient failures; raise if it keeps failing.

        Used where guessing would be wrong (reattach decisions): better to fail the step than
        to submit a twin.
        """
        transport = self.get_transport()
        for attempt in range(1, attempts + 1):
            try:
                result = transport.run(argv, timeout=120)
                if result.ok:
                    return parse(result.stdout)
                error: Exception = SlurmCommandError(argv, result.rc, result.stdout, result.stderr)
            except SlurmTransportError as exc:
                error = exc
            if attempt == attempts:
                raise error
            time.sleep(attempt)
        raise AssertionError("unreachable")

    def _should_resubmit(self, state: SlurmState) -> bool:
        if outcome_of(state) is not JobOutcome.FAILED:
            return False
        policy = ResubmitPolicy(self.resubmit_failed)
        if policy is ResubmitPolicy.ALWAYS:
            return True
        if policy is ResubmitPolicy.INFRASTRUCTURE:
            return state in INFRASTRUCTURE_FAILURES
        return False

    def _wait_for_throttle(self, log: LogLike) -> None:
        """Wait while the user has ``max_incomplete_jobs`` or more incomplete jobs."""
        throttle = self._throttle_state()
        user = self.get_transport().user
        with throttle.lock:
            announced = False
            while True:
                fresh = time.monotonic() - throttle.checked_at < self.poll_interval_seconds
                if not fresh or throttle.count >= self.max_incomplete_jobs:
                    try:
                        rows = self._checked(sacct.squeue_argv(user=user), sacct.parse_squeue)
                    except SlurmError as exc:
                        # sbatch will report an unreachable controller itself, clearly.
                        log.warning(f"cannot count incomplete jobs ({exc}); submitting anyway")
                        break
                    throttle.count = len(rows)
                    throttle.checked_at = time.monotonic()
                if throttle.count < self.max_incomplete_jobs:
                    break
                if not announced:
                    log.info(
                        f"{throttle.count} incomplete jobs for {user} (limit "
                        f"{self.max_incomplete_jobs}): waiting before submitting"
                    )
                    announced = True
                time.sleep(self.poll_interval_seconds)
            throttle.count += 1

    # -- wait ----------------------------------------------------------------------------

    def wait(
        self,
        handle: SlurmJobHandle,
        *,
        log: LogLike | None = None,
        context: Any | None = None,
        timeout: float | None = None,
    ) -> SlurmJobResult:
        """Wait for a job to end, streaming its log; cancel it if the Dagster run is cancelled.

        Never times out on PENDING by itself (a busy cluster may queue a job for hours): the
        pending reason is logged when it changes.

        :param timeout: give up waiting (the job keeps running) after this many seconds,
            raising :class:`TimeoutError`.
        """
        return self.wait_many([handle], log=log, context=context, timeout=timeout)[0]

    def wait_many(
        self,
        handles: Sequence[SlurmJobHandle],
        *,
        log: LogLike | None = None,
        context: Any | None = None,
        timeout: float | None = None,
    ) -> list[SlurmJobResult]:
        """Wait for several jobs in this thread (one poller serves them all)."""
        log = self._log(log, context)
        monitor = self.get_monitor()
        transport = self.get_transport()
        streamers = {
            h.job_id: _LogStreamer(transport, h.log_path, log, f"[slurm {h.job_id}]")
            for h in handles
        }
        last_state: dict[int, tuple[SlurmState, str | None]] = {}
        for handle in handles:
            monitor.track(handle.job_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            pending = list(handles)
            while pending:
                monitor.wait(pending[0].job_id, self.poll_interval_seconds)
                still = []
                for handle in pending:
                    status = monitor.status(handle.job_id)
                    key = (status.state, status.slurm_reason)
                    if last_state.get(handle.job_id) != key:
                        last_state[handle.job_id] = key
                        why = f" ({status.slurm_reason})" if status.slurm_reason else ""
                        log.info(f"Slurm job {handle.job_id}: {status.state.value}{why}")
                    if self.stream_logs:
                        streamers[handle.job_id].poll()
                    if not status.final:
                        still.append(handle)
                pending = still
                if pending and deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(
                        f"Slurm jobs {[h.job_id for h in pending]} still running after {timeout} s"
                    )
            return [self._result(h, monitor.status(h.job_id), log) for h in handles]
        except BaseException as exc:
            if isinstance(exc, (dg.DagsterExecutionInterruptedError, KeyboardInterrupt)):
                if self._should_cancel(context):
                    for handle in handles:
                        if not monitor.status(handle.job_id).final:
                            log.warning(f"Run cancelled: cancelling Slurm job {handle.job_id}")
                            self.cancel(handle.job_id)
                else:
                    log.warning(
                        "Interrupted, but the Dagster run is not being cancelled: leaving Slurm "
                        f"jobs {[h.job_id for h in handles]} running for a retry to reattach"
                    )
            raise
        finally:
            for handle in handles:
                monitor.release(handle.job_id)

    def _should_cancel(self, context: Any | None) -> bool:
        policy = CancelPolicy(self.cancel_policy)
        if policy is CancelPolicy.NEVER:
            return False
        if policy is CancelPolicy.ON_INTERRUPT:
            return True
        instance = getattr(context, "instance", None) or self._instance
        run_id = getattr(context, "run_id", None) or self._run_id
        if instance is None or run_id is None:
            return True  # plain Python: an interrupt is the user's wish to stop
        run = instance.get_run_by_id(run_id)
        return run is not None and run.status in (
            dg.DagsterRunStatus.CANCELING,
            dg.DagsterRunStatus.CANCELED,
        )

    def _result(self, handle: SlurmJobHandle, status: JobStatus, log: LogLike) -> SlurmJobResult:
        tail: tuple[str, ...] = ()
        if status.outcome is not JobOutcome.SUCCEEDED:
            tail = tuple(self.tail(handle.log_path, self.failure_log_lines))
        return SlurmJobResult(
            job_id=handle.job_id,
            job_name=handle.job_name,
            state=status.state,
            outcome=status.outcome,
            reason=status.reason,
            exit_code=status.exit_code,
            signal=status.signal,
            elapsed_seconds=status.elapsed_seconds,
            max_rss_bytes=status.max_rss_bytes,
            node=status.node,
            log_path=handle.log_path,
            log_tail=tail,
            reattached=handle.reattached,
            spec=handle.spec,
        )

    # -- run (submit + wait + escalation) ------------------------------------------------

    def run(
        self,
        spec: JobSpec,
        *,
        log: LogLike | None = None,
        context: Any | None = None,
        raise_on_failure: bool = True,
    ) -> SlurmJobResult:
        """Submit (or reattach), wait, and retry with more memory/time if configured.

        :raises SlurmJobFailed: if the job failed and ``raise_on_failure``.
        """
        return self.run_many([spec], log=log, context=context, raise_on_failure=raise_on_failure)[0]

    def run_many(
        self,
        specs: Sequence[JobSpec],
        *,
        log: LogLike | None = None,
        context: Any | None = None,
        raise_on_failure: bool = True,
    ) -> list[SlurmJobResult]:
        """:meth:`run` for several jobs at once, waited for in this thread.

        :raises SlurmJobFailed: for the first failed job, after all have ended.
        """
        log = self._log(log, context)
        current = list(specs)
        results: list[SlurmJobResult | None] = [None] * len(specs)
        history: list[list[int]] = [[] for _ in specs]
        todo = list(range(len(specs)))
        for round_ in range(self.max_escalations + 1):
            handles = [self.submit(current[i], log=log, context=context) for i in todo]
            done = self.wait_many(handles, log=log, context=context)
            retry = []
            for i, result in zip(todo, done, strict=True):
                results[i] = _with_history(result, history[i])
                if result.succeeded or round_ == self.max_escalations:
                    continue
                escalated = self._escalate(current[i], result.state)
                if escalated is None:
                    continue
                log.warning(
                    f"Slurm job {result.job_id} {result.state.value}: retrying with "
                    f"{escalated.memory_mb} MiB, {escalated.time_limit_minutes} min"
                )
                history[i].append(result.job_id)
                current[i] = escalated
                retry.append(i)
            todo = retry
            if not todo:
                break
        final = [r for r in results if r is not None]
        if raise_on_failure:
            for result in final:
                if not result.succeeded:
                    raise SlurmJobFailed(result)
        return final

    def _escalate(self, spec: JobSpec, state: SlurmState) -> JobSpec | None:
        """The spec with more memory (after OUT_OF_MEMORY) or time (after TIMEOUT), capped.

        :returns: ``None`` if the state is not escalatable or the cap is reached.
        """
        factor = self.escalation_factor
        if state is SlurmState.OUT_OF_MEMORY:
            if spec.memory_mb is None:
                return None
            new = math.ceil(spec.memory_mb * factor)
            if self.max_memory_mb is not None:
                new = min(new, self.max_memory_mb)
            return None if new <= spec.memory_mb else spec.model_copy(update={"memory_mb": new})
        if state is SlurmState.TIMEOUT:
            new = math.ceil(spec.time_limit_minutes * factor)
            if self.max_time_limit_minutes is not None:
                new = min(new, self.max_time_limit_minutes)
            if new <= spec.time_limit_minutes:
                return None
            return spec.model_copy(update={"time_limit_minutes": new})
        return None

    # -- other operations ----------------------------------------------------------------

    def cancel(self, job_id: int) -> None:
        """``scancel`` a job.

        :raises SlurmCommandError: if scancel fails (e.g. an unknown job id).
        """
        self._checked(["scancel", str(job_id)], lambda out: out)

    def status(self, job_id: int) -> JobStatus:
        """One-off status of a job (one sacct call; prefer :meth:`wait` for many jobs)."""
        for record in self._checked(sacct.allocations_argv([job_id]), sacct.parse_allocations):
            if record.job_id == job_id:
                return JobStatus(
                    job_id=job_id,
                    state=record.state.state,
                    detail=record.state.detail,
                    exit_code=record.exit_code,
                    signal=record.signal,
                    elapsed_seconds=record.elapsed_seconds,
                    node=record.node,
                    slurm_reason=record.reason,
                    final=record.state.outcome is not JobOutcome.RUNNING,
                )
        return JobStatus(job_id=job_id)

    def read_text(self, path: str) -> str:
        """Read a (small) file on the cluster side, e.g. a Nextflow trace."""
        return self.get_transport().read_bytes(path).decode("utf-8", "replace")

    def tail(self, path: str, lines: int) -> list[str]:
        """The last ``lines`` lines of a file on the cluster side (``[]`` if missing)."""
        transport = self.get_transport()
        try:
            size = transport.size(path)
            if size is None:
                return []
            start = max(0, size - 64 * 1024)
            data = transport.read_bytes(path, start, size - start)
        except (OSError, SlurmTransportError) as exc:
            return [f"(cannot read {path}: {exc})"]
        return data.decode("utf-8", "replace").splitlines()[-lines:]

    def run_nextflow(
        self,
        job: Any,
        *,
        log: LogLike | None = None,
        context: Any | None = None,
        raise_on_failure: bool = True,
    ) -> Any:
        """Run a :class:`~slurm_resource.nextflow.NextflowJob` and parse its trace.

        :returns: a :class:`~slurm_resource.nextflow.NextflowResult`.
        """
        from slurm_resource.nextflow import NextflowJob, NextflowResult, parse_trace

        assert isinstance(job, NextflowJob)
        result = self.run(
            job.to_job_spec(), log=log, context=context, raise_on_failure=raise_on_failure
        )
        try:
            tasks = parse_trace(self.read_text(job.trace_file))
        except FileNotFoundError:
            tasks = []
        return NextflowResult(job=result, tasks=tasks)


def close_all() -> None:
    """Stop every poller and close every cached transport of this process (e.g. at shutdown).

    Jobs keep running; a later :meth:`SlurmResource.submit` of the same spec reattaches.
    """
    with _REGISTRY_LOCK:
        monitors = list(_MONITORS.values())
        transports = list(_TRANSPORTS.values())
        _MONITORS.clear()
        _TRANSPORTS.clear()
    for monitor in monitors:
        monitor.stop()
    for transport in transports:
        transport.close()


def _with_history(result: SlurmJobResult, history: list[int]) -> SlurmJobResult:
    if not history:
        return result
    return replace(result, previous_job_ids=tuple(history))
