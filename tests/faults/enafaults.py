"""Aim a fake-ENA fault at some requests only (the fake's own faults match on the path)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from tests.fakes.ena.server import FakeENA, Fault, FaultMode


def fault_when(
    fake: FakeENA,
    monkeypatch: pytest.MonkeyPatch,
    wanted: Callable[[Mapping[str, str]], bool],
    mode: FaultMode,
    times: int,
    delay: float = 0.0,
) -> Fault:
    """Apply a fault to the next ``times`` ``/search`` requests whose parameters match
    ``wanted`` (e.g. ``lambda p: p.get("result") == "analysis"``: the assemblies asset only)."""
    fault = Fault(mode, times, "/search", retry_after=0.1, delay=delay, message="")
    original = fake.handle

    def handle(method, path, params, auth_header, body):  # noqa: ANN001, ANN202
        if path.endswith("/search") and fault.remaining > 0 and wanted(params):
            fault.remaining -= 1
            fake._log(path, params, None)
            return fake._fault_answer(
                fault, lambda: original(method, path, params, auth_header, body)
            )
        return original(method, path, params, auth_header, body)

    monkeypatch.setattr(fake, "handle", handle)
    return fault
