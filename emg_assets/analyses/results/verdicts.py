"""The pipelines' per-run verdicts: the top-level passed and QC-failed CSVs of an outdir."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from emg_assets.analyses.pipelines import Pipeline
from emg_assets.analyses.results.errors import ResultError
from emg_assets.analyses.results.models import Verdict, VerdictKind

#: The reason of a run that appears in neither CSV (the pipeline produced nothing for it).
MISSING_REASON = "missing from the pipeline's passed and QC-failed reports"


def _rows(path: Path) -> list[tuple[str, str]]:
    """``accession,value`` rows of a headerless two-column CSV (absent file: none)."""
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2 or not row[0].strip():
                raise ResultError(f"line {number}: expected `accession,value`, got {row!r}", path)
            rows.append((row[0].strip(), row[1].strip()))
    return rows


def read_verdicts(
    pipeline: Pipeline, outdir: Path, accessions: Iterable[str]
) -> dict[str, Verdict]:
    """The verdict of each accession of a chunk.

    A run in neither CSV is ``MISSING`` (a failure); a passed status the pipeline does not
    document is an error, as is a run that is both passed and failed.

    :raises ResultError: if a verdict CSV is malformed.
    """
    passed = {}
    for accession, status in _rows(outdir / pipeline.passed_csv):
        if status not in pipeline.passed_statuses:
            raise ResultError(
                f"unknown status {status!r} for {accession} (expected one of "
                f"{sorted(pipeline.passed_statuses)})",
                outdir / pipeline.passed_csv,
            )
        passed[accession] = status
    failed = dict(_rows(outdir / pipeline.failed_csv))
    verdicts = {}
    for accession in accessions:
        if accession in passed and accession in failed:
            verdicts[accession] = Verdict(
                kind=VerdictKind.MISSING,
                detail=f"listed as both passed ({passed[accession]}) and QC-failed "
                f"({failed[accession]})",
            )
        elif accession in failed:
            verdicts[accession] = Verdict(kind=VerdictKind.QC_FAILED, detail=failed[accession])
        elif accession in passed:
            verdicts[accession] = Verdict(kind=VerdictKind.PASSED, detail=passed[accession])
        else:
            verdicts[accession] = Verdict(kind=VerdictKind.MISSING, detail=MISSING_REASON)
    return verdicts
