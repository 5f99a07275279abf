"""Run schemas."""

from __future__ import annotations

from pydantic import Field

from emg_django.analyses.choices import ExperimentType
from emg_django.api.schemas.base import OutputSchema
from emg_django.api.schemas.samples import SampleListItem
from emg_django.api.schemas.studies import StudyListItem


class AnalysedRun(OutputSchema):
    """A sequencing run."""

    accession: str = Field(..., examples=["ERR4918394"])
    experiment_type: ExperimentType
    instrument_model: str | None = Field(..., examples=["DNBSEQ-G400"])
    instrument_platform: str | None = Field(..., examples=["DNBSEQ"])
    sample_accession: str | None = Field(..., examples=["SAMEA7687881"])
    study_accession: str = Field(..., examples=["MGYS00000001"])


class RunDetail(AnalysedRun):
    """A run with its sample and study."""

    sample: SampleListItem
    study: StudyListItem
