"""The code location loads, validates, and every sensor evaluates with the resources it is given.

``dagster definitions validate`` passes even when a sensor's resource is missing; only a tick
shows it. So each sensor is evaluated here with the resources the definitions bind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def test_every_sensor_ticks_with_the_definitions_resources(instance, ena, monkeypatch) -> None:
    from emg_assets import definitions

    monkeypatch.setitem(definitions.defs.resources, "ena", ena)
    repository = definitions.defs.get_repository_def()
    sensors = repository.sensor_defs
    assert {s.name for s in sensors} >= {"new_ena_studies", "ena_sync"}
    for sensor in sensors:
        required = sensor.required_resource_keys
        assert required <= set(definitions.defs.resources), (sensor.name, required)
        with dg.build_sensor_context(
            instance=instance,
            resources={key: definitions.defs.resources[key] for key in required},
            repository_def=repository,
        ) as context:
            result = sensor.evaluate_tick(context)
        assert result.run_requests is not None, sensor.name


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "EMG_DJANGO__DEBUG": "true"}
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "emg_assets" in out.stdout + out.stderr
