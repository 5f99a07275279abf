"""Small helpers shared by the tests: a free loopback port, and waiting for a condition."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server the test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(
    predicate: Callable[[], object],
    timeout: float,
    what: str,
    *,
    interval: float = 0.2,
    diagnostics: Callable[[], str] | None = None,
) -> object:
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout``
    seconds naming ``what`` was awaited, with ``diagnostics()`` (e.g. log tails) appended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    detail = f"\n{diagnostics()}" if diagnostics else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{detail}")


def code_server_answers(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a Dagster code server (gRPC) answers a ping on ``host:port``."""
    from dagster._grpc.client import DagsterGrpcClient

    try:
        DagsterGrpcClient(host=host, port=port).ping("up")
    except Exception:  # noqa: BLE001 - not up (yet)
        return False
    return True
