"""Pydantic schemas of the JSON fields (validated whenever a row is saved)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, field_validator

from emg_django.analyses.choices import DownloadFileType, DownloadType


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class DownloadFileIndex(_Strict):
    """An index beside a download (``.fai``, ``.gzi``, ``.csi``…)."""

    index_type: str
    path: str


class DownloadFile(_Strict):
    """One downloadable result file of a study or an analysis."""

    alias: str = Field(
        min_length=1,
        pattern=r"^[^/\x00-\x1f]+$",
        description="File name as served: one URL path segment (no '/', not '.' or '..').",
    )
    path: str = Field(min_length=1, description="Path relative to the object's results dir.")
    file_type: DownloadFileType
    download_type: DownloadType
    download_group: str | None = Field(
        default=None, description="e.g. taxonomies.closed_reference.ssu"
    )
    short_description: str = ""
    long_description: str = ""
    file_size_bytes: NonNegativeInt | None = None
    index_files: list[DownloadFileIndex] | None = None

    @field_validator("alias")
    @classmethod
    def _not_a_dot_segment(cls, value: str) -> str:
        if value in (".", ".."):
            raise ValueError("an alias is a file name, not '.' or '..'")
        return value


class FastqFile(_Strict):
    """A read file of a run, as ENA lists it."""

    url: str = Field(min_length=1, description="ENA's path, no scheme (ftp.sra.ebi.ac.uk/vol1/…).")
    md5: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    size_bytes: NonNegativeInt | None = None


class AnnotationItem(_Strict):
    """One row of an annotation table: an organism (taxonomy) or a function (pfam…)."""

    count: NonNegativeInt
    organism: str | None = None
    description: str | None = None
    accession: str | None = None


#: ``Analysis.annotations``: annotation type → its rows.
Annotations = dict[str, list[AnnotationItem]]
