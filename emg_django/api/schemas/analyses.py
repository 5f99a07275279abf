"""Analysis (MGYA) schemas."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from emg_django.analyses.choices import ExperimentType, PipelineVersion
from emg_django.api.schemas.assemblies import AssemblyListItem
from emg_django.api.schemas.base import OutputSchema
from emg_django.api.schemas.common import DownloadFileSchema
from emg_django.api.schemas.runs import AnalysedRun
from emg_django.api.schemas.samples import SampleListItem


class AnalysisListItem(OutputSchema):
    """An analysis in lists."""

    accession: str = Field(..., examples=["MGYA00000001"])
    study_accession: str = Field(..., examples=["MGYS00000001"])
    experiment_type: ExperimentType
    run: AnalysedRun | None
    sample: SampleListItem | None
    assembly: AssemblyListItem | None
    pipeline_version: PipelineVersion


class AnalysisDetail(AnalysisListItem):
    """An analysis with its results."""

    read_run: list[AnalysedRun] | None = Field(
        ..., description="The read runs analysed: the run, or the runs the assembly was made from."
    )
    quality_control_summary: dict[str, Any] | None
    downloads: list[DownloadFileSchema]
    results_dir: str
    metadata: dict[str, Any]


class AnnotationItemSchema(OutputSchema):
    """One row of an annotation table."""

    count: int | None = None
    description: str | None = None
    organism: str | None = None
    accession: str | None = Field(None, description="e.g. the Pfam accession of a function.")


class AnalysisWithAnnotations(AnalysisDetail):
    """An analysis with all its annotation tables."""

    annotations: dict[str, list[AnnotationItemSchema]]
