"""Data-quality checks of a study's mirrored runs, evaluated on what the database holds."""

from __future__ import annotations

import re
from collections.abc import Iterator

import dagster as dg

from emg_assets.ena.ingest import WriteReport
from emg_assets.metadata import markdown_table
from emg_django.analyses.choices import LibraryLayout
from emg_django.analyses.models import Run, Study

FASTQ_MATCH_LAYOUT = "fastq_files_match_layout"
RUN_SAMPLES_EXIST = "run_samples_exist"
STUDY_HAS_RUNS = "study_has_runs"
_READ_SUFFIX = re.compile(r"_([12])\.f(?:ast)?q(?:\.gz)?$")

RUN_CHECKS = [
    dg.AssetCheckSpec(
        FASTQ_MATCH_LAYOUT,
        asset="ena_read_runs",
        description="Every run has fastq files consistent with its library layout, "
        "each with an md5.",
    ),
    dg.AssetCheckSpec(
        RUN_SAMPLES_EXIST,
        asset="ena_read_runs",
        description="Every sample a run of the study refers to is mirrored "
        "and linked to the study.",
    ),
    dg.AssetCheckSpec(
        STUDY_HAS_RUNS,
        asset="ena_read_runs",
        description="The study has at least one run (warning).",
    ),
]


def layout_problem(layout: str, files: list[dict[str, object]]) -> str | None:
    """Why a run's files do not fit its layout, or ``None`` when they do."""
    if not files:
        return "no fastq files"
    if any(not f.get("md5") for f in files):
        return "a file has no md5"
    numbered = {m.group(1) for f in files if (m := _READ_SUFFIX.search(str(f["url"])))}
    if layout == LibraryLayout.PAIRED and ({"1", "2"} - numbered or len(files) > 3):
        return f"PAIRED with {len(files)} file(s) lacking a _1/_2 pair"
    if layout == LibraryLayout.SINGLE and len(files) != 1:
        return f"SINGLE with {len(files)} files"
    return None


def run_checks(study: Study, report: WriteReport) -> Iterator[dg.AssetCheckResult]:
    """The check results of ``ena_read_runs`` for ``study``."""
    runs = list(
        Run.objects.filter(study=study).values("accession", "library_layout", "fastq_files")
    )
    bad = [
        {"accession": r["accession"], "layout": r["library_layout"], "problem": problem}
        for r in runs
        if (problem := layout_problem(r["library_layout"], r["fastq_files"]))
    ]
    yield dg.AssetCheckResult(
        check_name=FASTQ_MATCH_LAYOUT,
        passed=not bad,
        metadata={
            "runs": len(runs),
            "failing": len(bad),
            "failures": markdown_table(bad, ("accession", "layout", "problem")),
        },
    )
    unlinked = list(
        Run.objects.filter(study=study)
        .exclude(sample__studies=study)
        .values_list("accession", flat=True)
    )
    missing_samples = [p for p in report.skipped if "sample" in p.reason]
    yield dg.AssetCheckResult(
        check_name=RUN_SAMPLES_EXIST,
        passed=not unlinked and not missing_samples,
        metadata={
            "runs_with_unlinked_sample": len(unlinked),
            "runs_skipped_for_missing_sample": len(missing_samples),
            "examples": markdown_table(
                [{"run": acc, "reason": "sample not linked to the study"} for acc in unlinked]
                + [{"run": p.accession, "reason": p.reason} for p in missing_samples],
                ("run", "reason"),
            ),
        },
    )
    yield dg.AssetCheckResult(
        check_name=STUDY_HAS_RUNS,
        passed=bool(runs),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"runs": len(runs)},
    )
