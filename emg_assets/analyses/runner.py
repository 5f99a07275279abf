"""Analysing one study with one pipeline: samplesheets → Nextflow on Slurm → verdicts → import.

The database is touched in short transactions between the slow parts; no connection is held
while the Slurm jobs run (they may take days).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import close_old_connections, connection

from emg_assets.analyses import statuses
from emg_assets.analyses.pipelines import Pipeline, Subject
from emg_assets.analyses.publish import (
    Move,
    analysis_results_dir,
    datamover_spec,
    study_lock,
    study_results_dir,
)
from emg_assets.analyses.results import (
    ImportedResults,
    ResultError,
    VerdictKind,
    read_results,
    read_verdicts,
)
from emg_assets.analyses.samplesheets import (
    ChunkDir,
    NotAnalysable,
    chunked,
    subject_row,
    write_chunk,
)
from emg_assets.analyses.settings import AnalysisPipelines, PipelineSettings
from emg_django.analyses.choices import AnalysisStatus, PipelineVersion
from emg_django.analyses.models import Analysis, Study
from slurm_resource import NextflowJob, SlurmJobResult, SlurmResource

S = AnalysisStatus
#: Lines of a failed job's log kept in the analyses' failure reason.
REASON_LOG_LINES = 15


@dataclass(frozen=True)
class LaunchOptions:
    """What a curator decides at launch (see ``AnalysisConfig``)."""

    version: PipelineVersion
    sample_limit: int = 0
    retry_qc_failed: bool = False
    chunk_size: int | None = None
    library_strategies: frozenset[str] | None = None
    library_sources: frozenset[str] | None = None


@dataclass
class ChunkReport:
    digest: str
    accessions: list[str]
    job: SlurmJobResult | None = None
    error: str = ""


@dataclass
class Report:
    """What one materialisation did."""

    attempted: list[int] = field(default_factory=list)
    created: int = 0
    blocked: dict[str, str] = field(default_factory=dict)
    chunks: list[ChunkReport] = field(default_factory=list)
    outcomes: dict[int, statuses.Outcome] = field(default_factory=dict)
    imported: int = 0
    reimported: int = 0
    published: int = 0
    publish_job: SlurmJobResult | None = None
    publish_error: str = ""
    seconds_waiting: float = 0.0
    seconds_total: float = 0.0

    def count(self, status: AnalysisStatus) -> int:
        return sum(1 for o in self.outcomes.values() if o.status == status)


def _release_connection() -> None:
    """Close this thread's database connection before a long wait (it would go stale)."""
    if not connection.in_atomic_block:
        connection.close()


def select_subjects(study: Study, pipeline: Pipeline, options: LaunchOptions) -> list[Any]:
    """The study's runs/assemblies for this pipeline, after the library policies and limit."""
    subjects: Any = statuses.subjects_of(study, pipeline)
    if pipeline.subject is Subject.RUN:
        if options.library_strategies:
            subjects = subjects.filter(library_strategy__in=options.library_strategies)
        if options.library_sources:
            subjects = subjects.filter(library_source__in=options.library_sources)
    subjects = list(subjects)
    if options.sample_limit:
        # The limit counts samples (as the old flow's prompt did): all runs of the first N.
        samples: list[int] = []
        for subject in subjects:
            if subject.sample_id not in samples:
                samples.append(subject.sample_id)
        keep = set(samples[: options.sample_limit])
        subjects = [s for s in subjects if s.sample_id in keep]
    return subjects


def nextflow_job(
    pipeline: Pipeline,
    settings: PipelineSettings,
    pipelines: AnalysisPipelines,
    study_key: str,
    chunk: ChunkDir,
    private: bool,
) -> NextflowJob:
    params: dict[str, str | int | float | bool] = {}
    if private:
        params["private_study"] = True
    return NextflowJob(
        name=f"{pipeline.name.value}-{study_key}-{chunk.digest[:8]}",
        pipeline=settings.repository,
        revision=settings.revision,
        profile=settings.profile,
        config_files=(settings.config_file,) if settings.config_file else (),
        samplesheet=str(chunk.samplesheet),
        outdir=str(chunk.outdir),
        work_dir=str(chunk.nextflow_work),
        trace_file=str(chunk.trace),
        launch_dir=str(chunk.root),
        params=params,
        nextflow=pipelines.nextflow_executable,
        time_limit_minutes=settings.time_limit_minutes,
        memory_mb=settings.memory_gb * 1024,
        cpus=settings.cpus,
        env=dict(pipelines.env),
    )


def _subject_accession(analysis: Analysis, pipeline: Pipeline) -> str:
    subject = analysis.assembly if pipeline.subject is Subject.ASSEMBLY else analysis.run
    assert subject is not None
    return subject.accession


def _job_failure_reason(result: SlurmJobResult) -> str:
    tail = "\n".join(result.log_tail[-REASON_LOG_LINES:])
    reason = f"Slurm job {result.job_id} {result.state.value}: {result.reason}"
    return f"{reason}\nLast lines of {result.log_path}:\n{tail}" if tail else reason


def _readable(error: ResultError, result_dir: Path) -> str:
    return str(error).replace(f"{result_dir}/", "")


def judge_chunk(
    pipeline: Pipeline,
    chunk: ChunkDir,
    analyses: Sequence[Analysis],
    job: SlurmJobResult | None,
    error: str = "",
) -> tuple[list[statuses.Outcome], dict[int, ImportedResults]]:
    """Each analysis's outcome after its chunk's job, and the results of the passed ones.

    Reads files only (no database): a malformed output fails its analysis, never the step.
    """
    outcomes: list[statuses.Outcome] = []
    results: dict[int, ImportedResults] = {}
    if job is None or not job.succeeded:
        reason = error if job is None else error or _job_failure_reason(job)
        return [statuses.Outcome(a.pk, S.FAILED, reason) for a in analyses], results
    accessions = {a.pk: _subject_accession(a, pipeline) for a in analyses}
    try:
        verdicts = read_verdicts(pipeline, chunk.outdir, accessions.values())
    except ResultError as exc:
        reason = f"unreadable pipeline report: {_readable(exc, chunk.outdir)}"
        return [statuses.Outcome(a.pk, S.FAILED, reason) for a in analyses], results
    for analysis in analyses:
        accession = accessions[analysis.pk]
        verdict = verdicts[accession]
        result_dir = chunk.result_dir(accession)
        if verdict.kind is VerdictKind.QC_FAILED:
            outcomes.append(statuses.Outcome(analysis.pk, S.QC_FAILED, verdict.detail))
        elif verdict.kind is VerdictKind.MISSING:
            outcomes.append(statuses.Outcome(analysis.pk, S.FAILED, verdict.detail))
        else:
            try:
                results[analysis.pk] = read_results(pipeline, result_dir, accession)
            except ResultError as exc:
                outcomes.append(
                    statuses.Outcome(
                        analysis.pk,
                        S.FAILED,
                        f"outputs of {accession}: {_readable(exc, result_dir)}",
                    )
                )
                continue
            outcomes.append(
                statuses.Outcome(
                    analysis.pk, S.COMPLETED, verdict.detail, results_dir=str(result_dir)
                )
            )
    return outcomes, results


def _store(
    outcomes: list[statuses.Outcome], results: dict[int, ImportedResults], report: Report
) -> None:
    close_old_connections()
    statuses.record_outcomes(outcomes)
    for outcome in outcomes:
        report.outcomes[outcome.analysis_id] = outcome
        if outcome.status == S.COMPLETED:
            report.imported += statuses.record_import(
                outcome.analysis_id, results[outcome.analysis_id]
            )


def _subject_field(pipeline: Pipeline) -> str:
    return pipeline.subject.value


def reimport_completed(study: Study, pipeline: Pipeline, options: LaunchOptions, log: Any) -> int:
    """Import analyses left ``completed`` (verdict written, import not) by a crashed step."""
    done = 0
    pending = (
        statuses.analyses_of(study, pipeline, options.version)
        .filter(status=S.COMPLETED)
        .select_related(_subject_field(pipeline))
    )
    for analysis in pending:
        accession = _subject_accession(analysis, pipeline)
        result_dir = Path(analysis.results_dir)
        try:
            results = read_results(pipeline, result_dir, accession)
        except ResultError as exc:
            statuses.record_import_failure(
                analysis.pk, f"outputs of {accession}: {_readable(exc, result_dir)}"
            )
            continue
        done += statuses.record_import(analysis.pk, results)
    if done:
        log.info(f"Imported {done} analyses completed by an earlier, interrupted run")
    return done


def publish(
    study: Study,
    study_key: str,
    pipeline: Pipeline,
    options: LaunchOptions,
    pipelines: AnalysisPipelines,
    slurm: SlurmResource,
    context: Any,
    report: Report,
) -> None:
    """Move every imported, unpublished analysis of the study to the results dir (one job)."""
    close_old_connections()
    study_dir = study_results_dir(study.results_dir, study_key)
    if not study.results_dir:
        Study.objects.filter(pk=study.pk, results_dir="").update(results_dir=study_dir)
    unpublished = (
        statuses.analyses_of(study, pipeline, options.version)
        .filter(status=S.ANNOTATIONS_IMPORTED, results_dir__startswith="/")
        .select_related(_subject_field(pipeline))
    )
    # Read now, not when the step started hours ago: ENA may have released the study since.
    is_private = Study.objects.values_list("is_private", flat=True).get(pk=study.pk)
    root = pipelines.results_root(is_private)
    moves: dict[int, Move] = {}
    relative: dict[int, str] = {}
    for analysis in unpublished:
        accession = _subject_accession(analysis, pipeline)
        relative[analysis.pk] = analysis_results_dir(
            study_dir, options.version.value, pipeline.name.value, accession
        )
        moves[analysis.pk] = Move(Path(analysis.results_dir), root / relative[analysis.pk])
    if not moves:
        return
    _release_connection()
    spec = datamover_spec(
        f"publish-{pipeline.name.value}-{study_key}",
        moves,
        slurm.datamover_partition,
        lock=study_lock(slurm.work_dir, study_key),  # a privacy move of the study waits
    )
    result = slurm.run(spec, context=context, raise_on_failure=False)
    report.publish_job = result
    close_old_connections()
    if result.succeeded:
        report.published = statuses.record_published(relative)
    else:
        report.publish_error = _job_failure_reason(result)


def analyse(
    study: Study,
    study_key: str,
    pipeline: Pipeline,
    options: LaunchOptions,
    pipelines: AnalysisPipelines,
    slurm: SlurmResource,
    context: Any,
) -> Report:
    """Create/reuse the analyses, run the pending ones in chunks, import and publish."""
    started = time.monotonic()
    log = context.log
    report = Report()
    settings = pipelines.settings(pipeline.name)
    field_name = _subject_field(pipeline)

    close_old_connections()
    subjects = select_subjects(study, pipeline, options)
    report.created = statuses.ensure_analyses(study, pipeline, options.version, subjects)
    report.reimported = reimport_completed(study, pipeline, options, log)
    todo = list(
        statuses.analyses_of(study, pipeline, options.version)
        .filter(
            status__in=statuses.attemptable(options.retry_qc_failed),
            **{f"{field_name}__in": subjects},
        )
        .select_related(field_name)
        .order_by(f"{field_name}__accession")
    )
    rows: dict[int, dict[str, str]] = {}
    blocked: dict[int, str] = {}
    for analysis in todo:
        subject = getattr(analysis, field_name)
        try:
            rows[analysis.pk] = subject_row(pipeline, subject)
        except NotAnalysable as exc:
            blocked[analysis.pk] = str(exc)
            report.blocked[subject.accession] = str(exc)
    statuses.mark_blocked(blocked)
    runnable = [a for a in todo if a.pk in rows]
    report.attempted = [a.pk for a in todo]
    chunk_size = options.chunk_size or settings.chunk_size
    groups = chunked(runnable, chunk_size)
    chunks = [
        write_chunk(
            Path(pipelines.work_dir),
            study_key,
            pipeline,
            [rows[a.pk] for a in group],
            pipelines.dir_mode,
        )
        for group in groups
    ]
    statuses.mark_running(a.pk for a in runnable)
    if not groups:
        log.info(f"No {pipeline.title} analyses to run for {study_key}")
    else:
        log.info(
            f"Running {len(runnable)} {pipeline.title} analyses of {study_key} in "
            f"{len(groups)} chunks of at most {chunk_size}"
        )
        jobs = [
            nextflow_job(pipeline, settings, pipelines, study_key, chunk, study.is_private)
            for chunk in chunks
        ]
        _release_connection()
        waited = time.monotonic()
        try:
            results = slurm.run_many(
                [job.to_job_spec() for job in jobs], context=context, raise_on_failure=False
            )
        except Exception as exc:
            # Slurm unusable (sbatch refused past its retries, reattach lookups failing): fail
            # the step, but leave no analysis "running" with nothing behind it. Interrupts
            # (BaseException) are not caught: their jobs keep running for a retry to reattach.
            reason = f"Slurm error, no result: {exc}"
            close_old_connections()
            statuses.record_outcomes([statuses.Outcome(a.pk, S.FAILED, reason) for a in runnable])
            raise
        report.seconds_waiting = time.monotonic() - waited
        for group, chunk, result in zip(groups, chunks, results, strict=True):
            accessions = [_subject_accession(a, pipeline) for a in group]
            report.chunks.append(ChunkReport(chunk.digest, accessions, result))
            outcomes, imported = judge_chunk(pipeline, chunk, group, result)
            _store(outcomes, imported, report)
    publish(study, study_key, pipeline, options, pipelines, slurm, context, report)
    report.seconds_total = time.monotonic() - started
    return report
