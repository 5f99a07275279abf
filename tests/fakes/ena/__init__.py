"""A fake ENA Portal API and Webin token endpoint for tests and offline demos (a TEST FIXTURE).

See ``tests/fakes/README.md``. Start by hand with ``python -m tests.fakes.ena --port 8085``.
"""

from tests.fakes.ena.server import FakeENA, FaultMode, LoggedRequest

__all__ = ["FakeENA", "FaultMode", "LoggedRequest"]
