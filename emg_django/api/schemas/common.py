"""Schemas shared by several resources: biomes and download files."""

from __future__ import annotations

from pydantic import Field

from emg_django.analyses.choices import DownloadFileType, DownloadType
from emg_django.api.schemas.base import OutputSchema


class BiomeSchema(OutputSchema):
    """A biome of the GOLD-style hierarchy."""

    biome_name: str = Field(..., examples=["Marine"])
    lineage: str = Field(..., examples=["root:Environmental:Aquatic:Marine"])


class DownloadIndexFileSchema(OutputSchema):
    """An index beside a download (``fai``, ``gzi``, ``csi``…)."""

    index_type: str = Field(..., examples=["fai"])
    path: str = Field(..., description="Path of the index, relative to the results directory.")


class DownloadFileSchema(OutputSchema):
    """A downloadable result file."""

    alias: str = Field(..., examples=["ERR1000_SILVA-SSU.tsv"])
    file_type: DownloadFileType
    download_type: DownloadType
    short_description: str
    long_description: str
    download_group: str | None = Field(None, examples=["taxonomies.closed_reference.ssu"])
    file_size_bytes: int | None = None
    index_files: list[DownloadIndexFileSchema] | None = None
    url: str = Field(..., description="Where to download the file.")
