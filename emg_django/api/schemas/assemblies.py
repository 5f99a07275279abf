"""Assembly schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from emg_django.api.schemas.base import OutputSchema


class AssemblyListItem(OutputSchema):
    """An assembly in lists."""

    accession: str = Field(..., examples=["ERZ2626953"])
    updated_at: dt.datetime


class AssemblyDetail(AssemblyListItem):
    """An assembly with where it comes from."""

    run_accession: str | None = Field(..., description="The (first) run it was assembled from.")
    sample_accession: str | None
    reads_study_accession: str | None = Field(
        ..., description="MGYS of the reads' study, if different."
    )
    assembly_study_accession: str = Field(..., description="MGYS of the study it is filed under.")
    assembler_name: str | None
    assembler_version: str | None
    metadata: dict[str, Any]
    status: dict[str, Any]
