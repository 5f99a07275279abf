"""Pipeline settings as a Dagster resource, built from ``EMGConfig.pipelines`` and ``.results``."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from emg_assets.analyses.pipelines import PipelineName
from emg_django.config import EMGConfig, PipelineConfig


class PipelineSettings(dg.Config):
    """One Nextflow pipeline (mirrors ``emg_django.config.PipelineConfig``)."""

    repository: str
    revision: str
    profile: str = "codon_slurm"
    config_file: str | None = None
    chunk_size: int = Field(default=50, ge=1)
    time_limit_minutes: int = Field(default=3 * 24 * 60, ge=1)
    memory_gb: int = Field(default=16, ge=1)
    cpus: int = Field(default=1, ge=1)

    @classmethod
    def from_config(cls, config: PipelineConfig) -> PipelineSettings:
        return cls(
            repository=config.repository,
            revision=config.revision,
            profile=config.profile,
            config_file=str(config.config_file) if config.config_file else None,
            chunk_size=config.chunk_size,
            time_limit_minutes=config.time_limit_minutes,
            memory_gb=config.memory_gb,
            cpus=config.cpus,
        )


class AnalysisPipelines(dg.ConfigurableResource):
    """Where and how the analysis pipelines run, and where their results are published.

    Paths are shared between this process and the cluster (as at EBI: the Nextflow head job
    writes the outdir that the importers read).
    """

    amplicon: PipelineSettings
    rawreads: PipelineSettings
    assembly: PipelineSettings
    nextflow_executable: str = "nextflow"
    work_dir: str = Field(description="Chunk dirs: samplesheets, Nextflow work and outdirs.")
    public_dir: str
    private_dir: str
    #: Environment of the Nextflow head jobs (e.g. NXF_HOME, or test knobs).
    env: dict[str, str] = Field(default_factory=dict)
    #: Mode of chunk dirs: the Slurm job's user must be able to write into them.
    dir_mode: int = 0o775

    def settings(self, name: PipelineName) -> PipelineSettings:
        return getattr(self, name.value)

    def results_root(self, private: bool) -> Path:
        return Path(self.private_dir if private else self.public_dir)

    @classmethod
    def from_config(cls, config: EMGConfig) -> AnalysisPipelines:
        pipelines = config.pipelines
        return cls(
            amplicon=PipelineSettings.from_config(pipelines.amplicon),
            rawreads=PipelineSettings.from_config(pipelines.rawreads),
            assembly=PipelineSettings.from_config(pipelines.assembly),
            nextflow_executable=pipelines.nextflow_executable,
            work_dir=str(config.results.work_dir),
            public_dir=str(config.results.public_dir),
            private_dir=str(config.results.private_dir),
        )
