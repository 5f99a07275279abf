"""Fixtures of the fault-injection tests (issue #7, "Faults").

Reuses the suite's fixtures: the fake ENA and its client, a Dagster test instance
(``tests/emg_assets/conftest.py``) and the Slurm dev cluster (``tests/slurm_resource/conftest.py``:
skipped when unavailable, a failure under ``CI=true``).
"""

from __future__ import annotations

from tests.emg_assets.conftest import ena, fake_ena, instance, partitions  # noqa: F401
from tests.slurm_resource.conftest import (  # noqa: F401
    _close_connections_at_the_end,
    cluster,
)
