"""Sample schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from emg_django.api.schemas.base import OutputSchema
from emg_django.api.schemas.common import BiomeSchema
from emg_django.api.schemas.studies import StudyListItem


class SampleListItem(OutputSchema):
    """A sample in lists."""

    accession: str = Field(..., examples=["SAMEA7687881"])
    ena_accessions: list[str]
    sample_title: str
    biome: BiomeSchema | None
    updated_at: dt.datetime


class SampleDetail(SampleListItem):
    """A sample with its metadata and (visible) studies."""

    metadata: dict[str, Any]
    studies: list[StudyListItem]
