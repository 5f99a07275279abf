"""Study summaries: one table per pipeline and annotation type, merged from the analyses.

The tables have the layout of ``mgnify-pipelines-toolkit``'s study-summary generators: one row
per taxon (or function), one column per run, counts in the cells, sorted by row key --
``<ENA study>_<pipeline>_<label>_study_summary.tsv``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emg_assets.analyses.pipelines import Pipeline
from emg_django.analyses.choices import DownloadFileType, DownloadType
from emg_django.analyses.schemas import DownloadFile

SUMMARY_DIR = "study-summaries"


@dataclass(frozen=True)
class SummaryTable:
    annotation_key: str
    label: str
    row_label: str
    taxonomic: bool


def summary_tables(pipeline: Pipeline) -> list[SummaryTable]:
    tables = [
        SummaryTable(t.annotation_key, t.label, "taxonomy", True) for t in pipeline.taxonomies
    ]
    tables += [SummaryTable(f.annotation_key, f.label, f.label, False) for f in pipeline.functions]
    return tables


def _row_key(item: Mapping[str, Any], taxonomic: bool) -> str:
    return str(item.get("organism") if taxonomic else item.get("accession") or "")


def render_summary(
    table: SummaryTable,
    annotations: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
) -> str | None:
    """The TSV of one annotation type over runs (``{run: annotations}``).

    :returns: ``None`` if no run has the annotation type.
    """
    columns = sorted(run for run, ann in annotations.items() if ann.get(table.annotation_key))
    if not columns:
        return None
    counts: dict[str, dict[str, int]] = {}
    for run in columns:
        for item in annotations[run][table.annotation_key]:
            row = counts.setdefault(_row_key(item, table.taxonomic), {})
            row[run] = row.get(run, 0) + int(item["count"])
    out = io.StringIO()
    out.write("\t".join([table.row_label, *columns]) + "\n")
    for key in sorted(counts):
        out.write("\t".join([key, *(str(counts[key].get(run, 0)) for run in columns)]) + "\n")
    return out.getvalue()


def summary_download(
    study_key: str, pipeline: Pipeline, table: SummaryTable, size: int
) -> DownloadFile:
    alias = f"{study_key}_{pipeline.name.value}_{table.label}_study_summary.tsv"
    what = "taxonomic assignments" if table.taxonomic else f"{table.label} annotations"
    return DownloadFile(
        alias=alias,
        path=f"{SUMMARY_DIR}/{alias}",
        file_type=DownloadFileType.TSV,
        download_type=DownloadType.TAXONOMIC_ANALYSIS
        if table.taxonomic
        else DownloadType.FUNCTIONAL_ANALYSIS,
        download_group=f"study_summary.{pipeline.name.value}.{table.label}",
        short_description=f"{table.label} {pipeline.title} study summary",
        long_description=f"Counts of {what} per run, over all {pipeline.title} analyses "
        "of the study",
        file_size_bytes=size,
    )


def merge_downloads(
    existing: Sequence[Mapping[str, Any]], new: Sequence[DownloadFile]
) -> list[dict[str, Any]]:
    """``existing`` with the entries of ``new`` replacing those of the same alias."""
    replaced = {d.alias for d in new}
    kept = [dict(d) for d in existing if d.get("alias") not in replaced]
    return kept + [d.model_dump(mode="json", exclude_none=True) for d in new]


def feature_flag(version: str) -> str:
    """The study metadata flag saying it has analyses of ``version`` (``has_v6_analyses``)."""
    return f"has_{version.lower().replace('.', '_')}_analyses"
