"""The run launcher of the production instance (``dagster.yaml``): Dagster's default launcher,
whose runs are processes of the code server, plus the worker health check that run monitoring
needs to fail a run whose worker died.

Dagster's code server already fails a run whose worker process exits while the server lives; what
nobody notices without this check is a worker that died *with* its code server (container or host
restarted, server killed): the run would stay STARTED for ever. Here the daemon asks the server
that started the run (its address is in the run's ``.dagster/grpc_info`` tag) for the runs it is
executing: a server that answers without the run means the worker is gone; a server that stays
unreachable longer than a grace period (restarts take seconds) means the same. Monitoring then
fails the run and run retries launch it again; the Slurm resource reattaches to the jobs the dead
worker had submitted instead of submitting twins.

The check needs a code server started with ``dagster api grpc`` (docker-compose, workspace.yaml's
python module, Helm user deployments): ``dagster code-server start`` does not serve its current
runs, and there a run is reported running, as with the default launcher.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import grpc
from dagster import Field
from dagster._core.errors import DagsterUserCodeUnreachableError
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.launcher.default_run_launcher import DefaultRunLauncher
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._grpc.__generated__ import dagster_api_pb2
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import GetCurrentRunsResult
from dagster._serdes import deserialize_value
from dagster._serdes.config_class import ConfigurableClassData

logger = logging.getLogger(__name__)

#: How long a run's code server may stay unreachable before its run is declared dead.
DEFAULT_UNREACHABLE_GRACE_SECONDS = 300.0
#: The daemon must not hang on a server that accepts connections but does not answer.
HEALTH_CHECK_TIMEOUT_SECONDS = 10


class HealthCheckedRunLauncher(DefaultRunLauncher):
    """:class:`DefaultRunLauncher` with :meth:`check_run_worker_health` (see the module doc).

    :param unreachable_grace_seconds: how long the code server of a run may be unreachable
        before the run is reported failed.
    """

    def __init__(
        self,
        unreachable_grace_seconds: float = DEFAULT_UNREACHABLE_GRACE_SECONDS,
        inst_data: ConfigurableClassData | None = None,
    ) -> None:
        super().__init__(inst_data=inst_data)
        self.unreachable_grace_seconds = unreachable_grace_seconds
        # server address → monotonic time it was first seen unreachable (reset when it answers)
        self._unreachable_since: dict[str, float] = {}
        self._lock = threading.Lock()

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {
            "unreachable_grace_seconds": Field(
                float,
                is_required=False,
                default_value=DEFAULT_UNREACHABLE_GRACE_SECONDS,
                description="Seconds a run's code server may be unreachable before the run "
                "is failed by run monitoring.",
            )
        }

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> HealthCheckedRunLauncher:
        return cls(inst_data=inst_data, **config_value)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        grpc_info = run.tags.get(GRPC_INFO_TAG)
        if not grpc_info:
            # Launched elsewhere (another launcher, or before this one): nothing to ask.
            return CheckRunHealthResult(
                WorkerStatus.RUNNING, "no code server recorded for this run: not checked"
            )
        info = json.loads(grpc_info)
        address = _address(info)
        client = DagsterGrpcClient(
            host=info.get("host"),
            port=info.get("port"),
            socket=info.get("socket"),
            use_ssl=bool(info.get("use_ssl", False)),
        )
        try:
            current = deserialize_value(
                client._query(  # noqa: SLF001  (the public call has no timeout)
                    "GetCurrentRuns", dagster_api_pb2.Empty, timeout=HEALTH_CHECK_TIMEOUT_SECONDS
                ).serialized_current_runs,
                GetCurrentRunsResult,
            )
        except DagsterUserCodeUnreachableError as error:
            if _unimplemented(error):
                return CheckRunHealthResult(
                    WorkerStatus.RUNNING, f"code server {address} cannot list its runs"
                )
            return self._unreachable(address, error)
        with self._lock:
            self._unreachable_since.pop(address, None)
        if current.serializable_error_info is not None:
            return CheckRunHealthResult(
                WorkerStatus.RUNNING,
                f"code server {address} could not list its runs: "
                f"{current.serializable_error_info.message}",
                transient=True,
            )
        if run.run_id in current.current_runs:
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=address)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the code server at {address} that started this run is not running it: its worker "
            "died with a previous server process (restart, crash or killed container)",
            run_worker_id=address,
        )

    def _unreachable(self, address: str, error: Exception) -> CheckRunHealthResult:
        now = time.monotonic()
        with self._lock:
            since = self._unreachable_since.setdefault(address, now)
        waited = now - since
        if waited < self.unreachable_grace_seconds:
            logger.info("code server %s unreachable for %.0f s: %s", address, waited, error)
            return CheckRunHealthResult(
                WorkerStatus.RUNNING,
                f"code server {address} unreachable for {waited:.0f} s",
                transient=True,
            )
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the code server at {address} that started this run has been unreachable for "
            f"{waited:.0f} s (more than {self.unreachable_grace_seconds:.0f} s): {error}",
            run_worker_id=address,
        )


def _address(info: Mapping[str, Any]) -> str:
    if info.get("socket"):
        return f"{info.get('host') or 'localhost'}:{info['socket']}"
    return f"{info.get('host')}:{info.get('port')}"


def _unimplemented(error: BaseException) -> bool:
    cause = error.__cause__
    return isinstance(cause, grpc.RpcError) and cause.code() == grpc.StatusCode.UNIMPLEMENTED
