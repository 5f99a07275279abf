"""Fixtures of the analysis tests: the pipelines resource on the stand-in Nextflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from emg_assets.analyses.settings import AnalysisPipelines, PipelineSettings
from emg_django.config import EMGConfig
from tests.emg_assets.analyses.standin import NEXTFLOW_STANDIN

# The dev cluster (skipped when unavailable; a failure under CI=true) for the end-to-end tests.
from tests.slurm_resource.conftest import cluster  # noqa: F401


def pipelines_resource(
    base: Path, *, chunk_size: int = 2, env: dict[str, str] | None = None, dir_mode: int = 0o775
) -> AnalysisPipelines:
    """The platform's pipeline settings with the stand-in ``nextflow`` and dirs under ``base``."""
    config = EMGConfig()
    settings = {
        name: PipelineSettings.from_config(getattr(config.pipelines, name)).model_copy(
            update={"chunk_size": chunk_size, "memory_gb": 1, "time_limit_minutes": 10}
        )
        for name in ("amplicon", "rawreads", "assembly")
    }
    for sub in ("work", "public", "private"):
        (base / sub).mkdir(parents=True, exist_ok=True)
        (base / sub).chmod(0o1777)
    return AnalysisPipelines(
        **settings,
        nextflow_executable=str(NEXTFLOW_STANDIN),
        work_dir=str(base / "work"),
        public_dir=str(base / "public"),
        private_dir=str(base / "private"),
        env=env or {},
        dir_mode=dir_mode,
    )


@pytest.fixture
def results_base(tmp_path: Path) -> Path:
    return tmp_path / "results"
