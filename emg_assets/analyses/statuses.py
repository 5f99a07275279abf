"""Analysis statuses: which analyses to attempt, and every status change, in one place.

The life of an analysis::

    pending ──> running ──> completed ──> annotations_imported
       │           ├──> qc_failed   (the pipeline's QC verdict; retried only when asked)
       │           └──> failed      (job failed, run missing, outputs missing or malformed)
       └──> blocked (nothing to analyse: no fastq files / no contigs)

``completed`` means the pipeline passed the run and its outputs are valid; the import then
moves it to ``annotations_imported``. Updates are conditional on the current status, so a
stale process cannot move an analysis backwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from emg_assets.analyses.pipelines import Pipeline, Subject
from emg_assets.analyses.results import ImportedResults
from emg_django.analyses.choices import AnalysisStatus, PipelineVersion
from emg_django.analyses.models import Analysis, Assembly, Run, Study

S = AnalysisStatus

#: new status -> the statuses it may be reached from.
TRANSITIONS: dict[AnalysisStatus, frozenset[AnalysisStatus]] = {
    S.RUNNING: frozenset({S.PENDING, S.RUNNING, S.FAILED, S.QC_FAILED, S.BLOCKED}),
    S.BLOCKED: frozenset({S.PENDING, S.RUNNING, S.FAILED, S.BLOCKED}),
    S.COMPLETED: frozenset({S.RUNNING}),
    S.QC_FAILED: frozenset({S.RUNNING}),
    S.FAILED: frozenset({S.RUNNING, S.COMPLETED}),
    S.ANNOTATIONS_IMPORTED: frozenset({S.COMPLETED}),
}
#: Statuses an analysis is attempted from (QC-failed ones only when asked).
TO_ATTEMPT = frozenset({S.PENDING, S.RUNNING, S.FAILED, S.BLOCKED})
#: Statuses counted as a finished, successful analysis.
SUCCEEDED = frozenset({S.COMPLETED, S.ANNOTATIONS_IMPORTED})


class InvalidTransition(ValueError):
    pass


def check_transition(old: AnalysisStatus | str, new: AnalysisStatus) -> None:
    """:raises InvalidTransition: if ``new`` cannot follow ``old``."""
    if S(old) not in TRANSITIONS.get(new, frozenset()):
        raise InvalidTransition(f"an analysis cannot go from {old} to {new}")


def attemptable(retry_qc_failed: bool) -> frozenset[AnalysisStatus]:
    return TO_ATTEMPT | {S.QC_FAILED} if retry_qc_failed else TO_ATTEMPT


def subjects_of(study: Study, pipeline: Pipeline) -> QuerySet:
    """The study's runs (of the pipeline's experiment types) or primary assemblies."""
    if pipeline.subject is Subject.ASSEMBLY:
        return Assembly.objects.filter(study=study).order_by("accession")
    return Run.objects.filter(
        study=study, experiment_type__in=[t.value for t in pipeline.experiment_types]
    ).order_by("accession")


def analyses_of(study: Study, pipeline: Pipeline, version: PipelineVersion | str) -> QuerySet:
    """The study's analyses by this pipeline and version (by subject and experiment type)."""
    return Analysis.objects.filter(
        study=study,
        pipeline_version=version,
        experiment_type__in=[t.value for t in pipeline.experiment_types],
        **{f"{pipeline.subject.value}__isnull": False},
    )


def ensure_analyses(
    study: Study, pipeline: Pipeline, version: PipelineVersion, subjects: Sequence[Run | Assembly]
) -> int:
    """Create the missing analyses (one per run/assembly and version); existing ones are kept.

    :returns: how many were created.
    """
    field = pipeline.subject.value
    with transaction.atomic():
        existing = set(
            Analysis.objects.filter(
                study=study, pipeline_version=version, **{f"{field}__in": subjects}
            ).values_list(f"{field}_id", flat=True)
        )
        new = [
            Analysis(
                study=study,
                sample_id=subject.sample_id,
                # Assembly pipelines set their own type; runs carry theirs.
                experiment_type=pipeline.analysis_experiment_type or subject.experiment_type,  # type: ignore[union-attr]
                pipeline_version=version,
                status=S.PENDING,
                **{field: subject},
                **study.visibility(),
            )
            for subject in subjects
            if subject.pk not in existing
        ]
        # A concurrent run may create the same analyses: the unique constraints win.
        Analysis.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return len(new)


def _update(ids: Iterable[int], new: AnalysisStatus, reason: str = "", **fields: object) -> int:
    return Analysis.objects.filter(pk__in=list(ids), status__in=TRANSITIONS[new]).update(
        status=new, status_reason=reason, updated_at=timezone.now(), **fields
    )


def mark_running(ids: Iterable[int]) -> int:
    return _update(ids, S.RUNNING)


def mark_blocked(reasons: Mapping[int, str]) -> int:
    with transaction.atomic():
        return sum(_update([pk], S.BLOCKED, reason) for pk, reason in reasons.items())


@dataclass(frozen=True)
class Outcome:
    """A chunk's decision about one analysis.

    :param results_dir: where its outputs are (the chunk's outdir until published).
    """

    analysis_id: int
    status: AnalysisStatus
    reason: str = ""
    results_dir: str = ""


def record_outcomes(outcomes: Sequence[Outcome]) -> int:
    """Write the verdicts of a chunk (completed / qc_failed / failed) in one transaction."""
    changed = 0
    with transaction.atomic():
        for outcome in outcomes:
            extra = {"results_dir": outcome.results_dir} if outcome.results_dir else {}
            changed += _update([outcome.analysis_id], outcome.status, outcome.reason, **extra)
    return changed


def record_import(analysis_id: int, results: ImportedResults) -> int:
    """Store a completed analysis's results and mark its annotations imported."""
    return _update(
        [analysis_id],
        S.ANNOTATIONS_IMPORTED,
        quality_control=results.quality_control,
        annotations=results.annotations_json(),
        downloads=results.downloads_json(),
    )


def record_import_failure(analysis_id: int, reason: str) -> int:
    """A completed analysis whose outputs could not be imported."""
    return _update([analysis_id], S.FAILED, reason)


def record_published(moves: Mapping[int, str]) -> int:
    """Point published analyses at their public/private results dir."""
    with transaction.atomic():
        return sum(
            Analysis.objects.filter(pk=pk).update(results_dir=path, updated_at=timezone.now())
            for pk, path in moves.items()
        )
