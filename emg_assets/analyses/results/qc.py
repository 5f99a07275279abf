"""QC summaries: fastp reports (reads) and QUAST metrics (assemblies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emg_assets.analyses.pipelines import ID, QCSource
from emg_assets.analyses.results.errors import ResultError
from emg_assets.analyses.results.tables import open_text


def _fastp_summary(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultError(f"not a fastp JSON report: {exc}", path) from exc
    summary = report.get("summary") if isinstance(report, dict) else None
    if not isinstance(summary, dict):
        raise ResultError("fastp report without a `summary` object", path)
    return summary


def _quast_metrics(path: Path) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    try:
        with open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                name, sep, value = line.rstrip("\n").partition("\t")
                if not sep:
                    raise ResultError(f"line {number}: expected `metric<TAB>value`", path)
                metrics[name.strip()] = _number(value.strip())
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ResultError(f"unreadable: {exc}", path) from exc
    return metrics


def _number(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def read_quality_control(result_dir: Path, source: QCSource, accession: str) -> dict[str, Any]:
    """The QC summary: ``{label: fastp summary}`` or the QUAST metrics (absent files: left out)."""
    summary: dict[str, Any] = {}
    for label, template in source.fastp.items():
        path = result_dir / template.replace(ID, accession)
        if path.is_file():
            summary[label] = _fastp_summary(path)
    if source.quast:
        path = result_dir / source.quast.replace(ID, accession)
        if path.is_file():
            summary["quast"] = _quast_metrics(path)
    return summary
