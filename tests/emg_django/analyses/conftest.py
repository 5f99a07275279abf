"""Fixtures of the model, admin and command tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from emg_django.config import ResultsConfig, get_config


@pytest.fixture(autouse=True)
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ResultsConfig:
    """Results dirs of this test (the demo data writes its result files there)."""
    config = get_config().results.model_copy(
        update={"public_dir": tmp_path / "public", "private_dir": tmp_path / "private"}
    )
    monkeypatch.setattr(get_config(), "results", config)
    return config
