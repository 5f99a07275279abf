"""Study (MGYS) schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from emg_django.api.schemas.base import OutputSchema
from emg_django.api.schemas.common import BiomeSchema, DownloadFileSchema


class StudyListItem(OutputSchema):
    """A study in lists."""

    accession: str = Field(..., examples=["MGYS00000001"])
    ena_accessions: list[str] = Field(..., examples=[["PRJEB41657", "ERP125469"]])
    title: str
    biome: BiomeSchema | None
    updated_at: dt.datetime
    metadata: dict[str, Any]


class StudyDetail(StudyListItem):
    """A study with its downloads."""

    downloads: list[DownloadFileSchema]
    first_accession: str | None = Field(
        ..., description="The preferred ENA accession (PRJ… first)."
    )


class StudyAccessionSchema(OutputSchema):
    """The MGnify accession of a study found by an ENA accession."""

    accession: str = Field(..., examples=["MGYS00000001"])


class PublicationSchema(OutputSchema):
    """A publication about a study (none are recorded yet)."""

    pubmed_id: int
    title: str
    published_year: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
