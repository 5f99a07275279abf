"""Asset checks of the analysis assets: terminal statuses and required downloads."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from emg_assets.analyses.pipelines import Pipeline, Subject
from emg_assets.analyses.statuses import SUCCEEDED, analyses_of
from emg_assets.metadata import markdown_table
from emg_django.analyses.choices import AnalysisStatus, PipelineVersion
from emg_django.analyses.models import Analysis, Study

ALL_TERMINAL = "attempted_analyses_terminal"
HAVE_DOWNLOADS = "completed_analyses_have_downloads"

CHECK_SPECS_DESCRIPTIONS = {
    ALL_TERMINAL: "Every analysis attempted by the materialisation reached a terminal status.",
    HAVE_DOWNLOADS: "Every completed analysis lists the downloads its pipeline must produce, "
    "and its results are published.",
}


def check_specs(asset_key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(name, asset=asset_key, description=text)
        for name, text in CHECK_SPECS_DESCRIPTIONS.items()
    ]


def terminal_check(attempted: Sequence[int]) -> dg.AssetCheckResult:
    terminal = AnalysisStatus.terminal()
    stuck = list(
        Analysis.objects.filter(pk__in=attempted)
        .exclude(status__in=terminal)
        .values("id", "status")
    )
    rows = [{"analysis": f"MGYA{r['id']:08d}", "status": r["status"]} for r in stuck]
    return dg.AssetCheckResult(
        check_name=ALL_TERMINAL,
        passed=not stuck,
        metadata={
            "attempted": len(attempted),
            "not_terminal": len(stuck),
            "not_terminal_table": markdown_table(rows, ("analysis", "status")),
        },
    )


def downloads_check(
    study: Study, pipeline: Pipeline, version: PipelineVersion
) -> dg.AssetCheckResult:
    field = pipeline.subject.value
    required = [spec for spec in pipeline.all_files() if spec.required and "*" not in spec.template]
    problems = []
    completed = (
        analyses_of(study, pipeline, version).filter(status__in=SUCCEEDED).select_related(field)
    )
    count = 0
    for analysis in completed:
        count += 1
        accession = (
            analysis.assembly if pipeline.subject is Subject.ASSEMBLY else analysis.run
        ).accession
        paths = {d["path"] for d in analysis.downloads}
        missing = [spec.path(accession) for spec in required if spec.path(accession) not in paths]
        if missing:
            problems.append(
                {
                    "analysis": analysis.accession,
                    "problem": "missing downloads: " + ", ".join(missing),
                }
            )
        if analysis.results_dir.startswith("/"):
            problems.append({"analysis": analysis.accession, "problem": "results not published"})
    return dg.AssetCheckResult(
        check_name=HAVE_DOWNLOADS,
        passed=not problems,
        metadata={
            "completed": count,
            "problems": len(problems),
            "problems_table": markdown_table(problems, ("analysis", "problem")),
        },
    )
