"""Analysis assets, one partition per study: amplicon, raw reads and assembly analyses, and
the study summary.

"Analyse study X" is "materialise these assets for partition X". Each pipeline asset creates or
reuses one Analysis (MGYA) per run/assembly, runs the pending ones through Nextflow on Slurm in
samplesheet chunks (all chunks at once, within the ``slurm`` pool and the resource's throttle),
imports the results and publishes them; a restarted step reattaches to its Slurm jobs.
"""

# No `from __future__ import annotations` here: Dagster reads config and resource types
# from the function annotations at definition time.

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from django.core.exceptions import ValidationError
from django.db import close_old_connections, transaction
from pydantic import Field

from emg_assets.analyses import checks
from emg_assets.analyses.pipelines import AMPLICON, ASSEMBLY, PIPELINES, RAWREADS, Pipeline
from emg_assets.analyses.publish import study_results_dir
from emg_assets.analyses.runner import LaunchOptions, Report, analyse
from emg_assets.analyses.settings import AnalysisPipelines
from emg_assets.analyses.statuses import SUCCEEDED, analyses_of
from emg_assets.analyses.summary import (
    SUMMARY_DIR,
    feature_flag,
    merge_downloads,
    render_summary,
    summary_download,
    summary_tables,
)
from emg_assets.ena.assets import ena_assemblies, ena_read_runs
from emg_assets.ena.ingest import study_of
from emg_assets.metadata import markdown_table
from emg_assets.partitions import ena_studies, validate_study_key
from emg_django.analyses.choices import AnalysisStatus, PipelineVersion
from emg_django.analyses.models import Biome, Study
from slurm_resource import SlurmResource

GROUP = "analyses"
#: Run/op tag naming the pipeline (dagster.yaml limits concurrent runs per value).
PIPELINE_TAG = "emg/pipeline"
#: Concurrency pool shared by every step that submits Slurm jobs.
SLURM_POOL = "slurm"
#: Key of ``Study.metadata`` where curators keep a study's analysis defaults.
CURATED_DEFAULTS = "analysis_defaults"
FAILURE_COLUMNS = ("analysis", "accession", "status", "reason")
CHUNK_COLUMNS = ("chunk", "runs", "slurm_job", "state", "elapsed_s", "max_rss_mib", "reattached")


class AnalysisConfig(dg.Config):
    """What a curator decides when launching a study's analysis (empty: the curated study's
    ``metadata.analysis_defaults``, else the platform default)."""

    pipeline_version: str = Field(
        default=PipelineVersion.V6.value, description="Pipeline version, e.g. V6."
    )
    sample_limit: int | None = Field(
        default=None, ge=0, description="Analyse the runs of at most this many samples (0 = all)."
    )
    biome: str | None = Field(
        default=None,
        description="Biome lineage to set on the study (required if it has none), "
        "e.g. root:Environmental:Aquatic:Marine",
    )
    library_strategies: list[str] | None = Field(
        default=None, description='Only runs of these library strategies, e.g. ["AMPLICON"].'
    )
    library_sources: list[str] | None = Field(
        default=None, description='Only runs of these library sources, e.g. ["METAGENOMIC"].'
    )
    retry_qc_failed: bool | None = Field(default=None, description="Analyse QC-failed runs again.")
    chunk_size: int | None = Field(
        default=None, ge=1, description="Runs per samplesheet (empty: the pipeline's setting)."
    )

    def options(self, study: Study) -> LaunchOptions:
        """The launch options, falling back on the study's curated defaults.

        :raises dg.Failure: on an unknown pipeline version.
        """
        curated: dict[str, Any] = (study.metadata or {}).get(CURATED_DEFAULTS) or {}

        def pick(name: str, default: Any) -> Any:
            value = getattr(self, name)
            return value if value is not None else curated.get(name, default)

        version = self.pipeline_version
        if version not in PipelineVersion.values:
            raise dg.Failure(
                f"unknown pipeline_version {version!r}; one of {PipelineVersion.values}"
            )
        strategies = pick("library_strategies", None)
        sources = pick("library_sources", None)
        return LaunchOptions(
            version=PipelineVersion(version),
            sample_limit=int(pick("sample_limit", 0)),
            retry_qc_failed=bool(pick("retry_qc_failed", False)),
            chunk_size=self.chunk_size,
            library_strategies=frozenset(strategies) if strategies else None,
            library_sources=frozenset(sources) if sources else None,
        )


def _study(context: dg.AssetExecutionContext) -> tuple[str, Study]:
    key = validate_study_key(context.partition_key)
    close_old_connections()
    study = study_of(key)
    if study is None:
        raise dg.Failure(f"study {key} is not mirrored yet: materialise the ENA ingest first")
    return key, study


def ensure_biome(study: Study, lineage: str | None, log: Any) -> str:
    """The study's biome, set from the launch config when given.

    :raises dg.Failure: if the study has no biome and none is given, or the lineage is invalid.
    """
    if lineage and (study.biome is None or study.biome.lineage != lineage.strip()):
        try:
            with transaction.atomic():
                study.biome = Biome.for_lineage(lineage)  # validates the lineage
                Study.objects.filter(pk=study.pk).update(biome=study.biome)
        except ValidationError as exc:
            raise dg.Failure(f"biome {lineage!r}: {'; '.join(exc.messages)}") from exc
        log.info(f"Biome of {study.accession} set to {study.biome.lineage}")
    if study.biome is None:
        raise dg.Failure(
            f"study {study.accession} has no biome: set it in the admin or give `biome` in the "
            "launch config (e.g. root:Environmental:Aquatic:Marine) before analysing"
        )
    return study.biome.lineage


def _mib(value: int | None) -> float | None:
    return None if value is None else round(value / (1 << 20), 1)


def report_metadata(study: Study, pipeline: Pipeline, report: Report) -> dict[str, Any]:
    """Materialisation metadata: counts, Slurm jobs, failures."""
    s = AnalysisStatus
    failures = [
        {"analysis": f"MGYA{o.analysis_id:08d}", "status": o.status, "reason": o.reason}
        for o in report.outcomes.values()
        if o.status in (s.FAILED, s.QC_FAILED)
    ]
    failures += [
        {"accession": acc, "status": s.BLOCKED, "reason": why}
        for acc, why in report.blocked.items()
    ]
    jobs = [c.job for c in report.chunks if c.job is not None]
    if report.publish_job is not None:
        jobs.append(report.publish_job)
    rss = [j.max_rss_bytes for j in jobs if j.max_rss_bytes is not None]
    meta: dict[str, Any] = {
        "mgys_accession": study.accession,
        "pipeline": pipeline.name.value,
        "analyses_attempted": len(report.attempted),
        "analyses_created": report.created,
        "analyses_completed": sum(report.count(x) for x in SUCCEEDED),
        "analyses_qc_failed": report.count(s.QC_FAILED),
        "analyses_failed": report.count(s.FAILED),
        "analyses_blocked": len(report.blocked),
        "analyses_imported": report.imported + report.reimported,
        "analyses_published": report.published,
        "chunks": len(report.chunks),
        "slurm_job_ids": dg.MetadataValue.text(",".join(str(j.job_id) for j in jobs)),
        "slurm_elapsed_seconds": max((j.elapsed_seconds for j in jobs), default=0),
        "seconds_waiting_for_slurm": round(report.seconds_waiting, 2),
        "seconds_total": round(report.seconds_total, 2),
        "failures_table": markdown_table(failures, FAILURE_COLUMNS, limit=50),
        "chunks_table": markdown_table(
            [
                {
                    "chunk": c.digest,
                    "runs": len(c.accessions),
                    "slurm_job": c.job.job_id if c.job else None,
                    "state": c.job.state.value if c.job else c.error,
                    "elapsed_s": c.job.elapsed_seconds if c.job else None,
                    "max_rss_mib": _mib(c.job.max_rss_bytes) if c.job else None,
                    "reattached": c.job.reattached if c.job else None,
                }
                for c in report.chunks
            ],
            CHUNK_COLUMNS,
            limit=50,
        ),
    }
    if rss:
        meta["slurm_max_rss_mib"] = dg.MetadataValue.float(float(_mib(max(rss)) or 0.0))
    if report.publish_error:
        meta["publish_error"] = dg.MetadataValue.text(report.publish_error)
    return meta


def _analysis_asset(pipeline: Pipeline, upstream: dg.AssetsDefinition) -> dg.AssetsDefinition:
    name = f"{pipeline.name.value}_analyses"

    @dg.asset(
        name=name,
        partitions_def=ena_studies,
        group_name=GROUP,
        deps=[upstream],
        kinds={"nextflow", "slurm", "postgres"},
        pool=SLURM_POOL,
        op_tags={PIPELINE_TAG: pipeline.name.value},
        check_specs=checks.check_specs(dg.AssetKey(name)),
        description=f"MGnify {pipeline.title} pipeline ({pipeline.version.label}) analyses of "
        "the study: Nextflow on Slurm, results imported and published.",
    )
    def _asset(
        context: dg.AssetExecutionContext,
        config: AnalysisConfig,
        slurm: SlurmResource,
        pipelines: AnalysisPipelines,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        key, study = _study(context)
        options = config.options(study)
        ensure_biome(study, config.biome, context.log)
        report = analyse(study, key, pipeline, options, pipelines, slurm, context)
        close_old_connections()
        yield dg.MaterializeResult(metadata=report_metadata(study, pipeline, report))
        yield checks.terminal_check(report.attempted)
        yield checks.downloads_check(study, pipeline, options.version)

    return _asset


amplicon_analyses = _analysis_asset(AMPLICON, ena_read_runs)
rawreads_analyses = _analysis_asset(RAWREADS, ena_read_runs)
assembly_analyses = _analysis_asset(ASSEMBLY, ena_assemblies)
PIPELINE_ASSETS = {
    AMPLICON.name: amplicon_analyses,
    RAWREADS.name: rawreads_analyses,
    ASSEMBLY.name: assembly_analyses,
}


class SummaryConfig(dg.Config):
    pipeline_version: str = Field(default=PipelineVersion.V6.value)


@dg.asset(
    partitions_def=ena_studies,
    group_name=GROUP,
    deps=list(PIPELINE_ASSETS.values()),
    kinds={"postgres"},
    description="Study-level summary tables merged from the study's imported analyses, and the "
    "study's flag that it has analyses of the pipeline version.",
)
def study_summary(
    context: dg.AssetExecutionContext, config: SummaryConfig, pipelines: AnalysisPipelines
) -> dg.MaterializeResult:
    key, study = _study(context)
    version = config.pipeline_version
    study_dir = study_results_dir(study.results_dir, key)
    out_dir = pipelines.results_root(study.is_private) / study_dir / SUMMARY_DIR
    downloads = []
    counts: dict[str, int] = {}
    for pipeline in PIPELINES.values():
        field = pipeline.subject.value
        rows = (
            analyses_of(study, pipeline, version)
            .with_annotations()  # type: ignore[attr-defined]
            .filter(status__in=SUCCEEDED)
            .values_list(f"{field}__accession", "annotations")
        )
        annotations = dict(rows)
        counts[pipeline.name.value] = len(annotations)
        for table in summary_tables(pipeline):
            text = render_summary(table, annotations)
            if text is None:
                continue
            download = summary_download(key, pipeline, table, len(text.encode()))
            out_dir.mkdir(parents=True, exist_ok=True)
            path = Path(out_dir.parent, download.path)
            path.write_text(text)
            downloads.append(download)
    has_any = any(counts.values())
    with transaction.atomic():
        locked = Study.objects.select_for_update().get(pk=study.pk)
        metadata = dict(locked.metadata or {})
        features = dict(metadata.get("features") or {})
        features[feature_flag(version)] = has_any
        metadata["features"] = features
        locked.metadata = metadata
        locked.downloads = merge_downloads(locked.downloads or [], downloads)
        locked.results_dir = locked.results_dir or study_dir
        locked.save(update_fields=["metadata", "downloads", "results_dir", "updated_at"])
    return dg.MaterializeResult(
        metadata={
            "mgys_accession": study.accession,
            **{f"{name}_analyses_summarised": n for name, n in counts.items()},
            "summary_files": len(downloads),
            feature_flag(version): has_any,
            "summaries": markdown_table(
                [d.model_dump() for d in downloads], ("alias", "file_size_bytes")
            ),
        }
    )


ANALYSIS_ASSETS = (*PIPELINE_ASSETS.values(), study_summary)
