"""Typed results of one analysed run or assembly, ready to be written to its Analysis."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from emg_django.analyses.schemas import AnnotationItem, DownloadFile


class VerdictKind(enum.StrEnum):
    PASSED = "passed"
    QC_FAILED = "qc_failed"
    MISSING = "missing"


class Verdict(BaseModel):
    """The pipeline's word on one run: passed (with its status) or QC-failed (with a reason)."""

    model_config = ConfigDict(frozen=True)

    kind: VerdictKind
    detail: str = ""


class ImportedResults(BaseModel):
    """What the importers read from one result dir."""

    quality_control: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, list[AnnotationItem]] = Field(default_factory=dict)
    downloads: list[DownloadFile] = Field(default_factory=list)

    def annotations_json(self) -> dict[str, list[dict[str, Any]]]:
        return {
            key: [item.model_dump(exclude_none=True) for item in items]
            for key, items in self.annotations.items()
        }

    def downloads_json(self) -> list[dict[str, Any]]:
        return [d.model_dump(mode="json", exclude_none=True) for d in self.downloads]
