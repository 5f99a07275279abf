"""The columns of each resource's list item and how a ``values()`` row becomes the item.

A list endpoint selects exactly these columns (never the deferred annotations); nested items
(an analysis's run, sample and assembly) select the same columns through a join prefix
(``run__``), on foreign keys whose targets are primary keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emg_django.analyses.models import Study
from emg_django.api.biome_lookup import biome_by_id
from emg_django.core.accessions import MGnifyPrefix, format_accession

Row = dict[str, Any]

#: The biome item comes from ``biome_lookup`` (no join).
BIOME_COLUMNS = ("biome_id",)
STUDY_COLUMNS = ("id", "ena_accessions", "title", *BIOME_COLUMNS, "updated_at", "metadata")
SAMPLE_COLUMNS = ("accession", "ena_accessions", "sample_title", *BIOME_COLUMNS, "updated_at")
RUN_COLUMNS = (
    "accession",
    "experiment_type",
    "instrument_model",
    "instrument_platform",
    "sample__accession",
    "study_id",
)
ASSEMBLY_COLUMNS = ("accession", "updated_at")
ANALYSIS_COLUMNS = ("id", "study_id", "experiment_type", "pipeline_version")


def columns(names: tuple[str, ...], prefix: str = "") -> tuple[str, ...]:
    """``names`` behind a join prefix (``run__``)."""
    return tuple(prefix + name for name in names)


def study_accession(pk: int) -> str:
    return format_accession(MGnifyPrefix.STUDY, pk)


def analysis_accession(pk: int) -> str:
    return format_accession(MGnifyPrefix.ANALYSIS, pk)


def biome_item(row: Row, prefix: str = "") -> Row | None:
    return biome_by_id(row[f"{prefix}biome_id"])


def study_item(row: Row, prefix: str = "") -> Row:
    return {
        "accession": study_accession(row[f"{prefix}id"]),
        "ena_accessions": row[f"{prefix}ena_accessions"],
        "title": row[f"{prefix}title"],
        "biome": biome_item(row, prefix),
        "updated_at": row[f"{prefix}updated_at"],
        "metadata": row[f"{prefix}metadata"] or {},
    }


def sample_item(row: Row, prefix: str = "") -> Row:
    return {
        "accession": row[f"{prefix}accession"],
        "ena_accessions": row[f"{prefix}ena_accessions"],
        "sample_title": row[f"{prefix}sample_title"],
        "biome": biome_item(row, prefix),
        "updated_at": row[f"{prefix}updated_at"],
    }


def run_item(row: Row, prefix: str = "", sample_key: str | None = None) -> Row:
    """:param sample_key: the column of the run's sample accession, when not the run's own join
    (``<prefix>sample__accession``)."""
    return {
        "accession": row[f"{prefix}accession"],
        "experiment_type": row[f"{prefix}experiment_type"],
        "instrument_model": row[f"{prefix}instrument_model"],
        "instrument_platform": row[f"{prefix}instrument_platform"],
        "sample_accession": row[sample_key or f"{prefix}sample__accession"],
        "study_accession": study_accession(row[f"{prefix}study_id"]),
    }


def assembly_item(row: Row, prefix: str = "") -> Row:
    return {"accession": row[f"{prefix}accession"], "updated_at": row[f"{prefix}updated_at"]}


def optional(build: Callable[[Row, str], Row], row: Row, prefix: str) -> Row | None:
    """The nested item behind ``prefix``, or ``None`` when the (nullable) foreign key is empty."""
    return None if row[f"{prefix}accession"] is None else build(row, prefix)


#: An analysis's run without its sample: an analysis of a run is of the run's sample (set so
#: when the analysis is made), whose accession the row has already. One join fewer halves the
#: planning time of the analysis lists (bench/RESULTS.md).
ANALYSED_RUN_COLUMNS = tuple(name for name in RUN_COLUMNS if name != "sample__accession")

#: An analysis list row: its own columns and its run, sample and assembly behind joins.
ANALYSIS_LIST_COLUMNS = (
    *ANALYSIS_COLUMNS,
    *columns(ANALYSED_RUN_COLUMNS, "run__"),
    *columns(SAMPLE_COLUMNS, "sample__"),
    *columns(ASSEMBLY_COLUMNS, "assembly__"),
)


def analysis_item(row: Row) -> Row:
    run = (
        None
        if row["run__accession"] is None
        else run_item(row, "run__", sample_key="sample__accession")
    )
    return {
        "accession": analysis_accession(row["id"]),
        "study_accession": study_accession(row["study_id"]),
        "experiment_type": row["experiment_type"],
        "pipeline_version": row["pipeline_version"],
        "run": run,
        "sample": optional(sample_item, row, "sample__"),
        "assembly": optional(assembly_item, row, "assembly__"),
    }


def first_ena_accession(ena_accessions: list[str]) -> str | None:
    """The study's preferred ENA accession (the model's rule, applied to a row)."""
    return Study(ena_accessions=ena_accessions).first_accession
