"""Results follow their study's privacy: when ENA releases a private study (its embargo ends),
the study's published results move from the private to the public results dir, and back if ENA
ever shows a public study only to the data-hub account.

A private study's analyses and summaries are published under ``private_dir``, which no web server
publishes (the API serves them to their owner); a public study's under ``public_dir``, served by
the results host, where the API points their download URLs. After a re-ingest changed the
study's privacy, :func:`results_privacy` (in the ``ena_ingest`` job, after ``ena_study``) moves
what sits under the other root with one ``datamover`` job. The move is idempotent and the job is
found again by its name after a restart, so a rerun finishes an interrupted move and never moves
twice. Until the move ends, the new URLs of those files answer 404.
"""

# No `from __future__ import annotations` here: Dagster reads resource types from the
# function annotations at definition time.

from typing import Any

import dagster as dg
from django.db import close_old_connections

from emg_assets.analyses.assets import study_summary
from emg_assets.analyses.publish import Move, Prune, datamover_spec, study_results_dir
from emg_assets.analyses.settings import AnalysisPipelines
from emg_assets.analyses.summary import SUMMARY_DIR
from emg_assets.ena.assets import ena_study
from emg_assets.ena.ingest import study_of
from emg_assets.partitions import ena_studies, validate_study_key
from emg_django.analyses.models import Analysis, Study
from emg_django.core.paths import published_dir
from slurm_resource import SlurmResource

GROUP = "analyses"
MOVED = "dirs_moved"


def misplaced_results(study: Study, study_key: str, pipelines: AnalysisPipelines) -> list[Move]:
    """The moves bringing the study's published results that sit under the root of the other
    privacy to the root of its own: each published analysis dir and the study summaries, one by
    one, merged into what the right root may already hold (newer results of the study stay)."""
    here = pipelines.results_root(study.is_private)
    there = pipelines.results_root(not study.is_private)
    study_dir = study_results_dir(study.results_dir, study_key)
    if here.resolve() == there.resolve() or not (there / study_dir).is_dir():
        return []  # the usual case: one stat, no query
    dirs = {f"{study_dir}/{SUMMARY_DIR}"}
    for results_dir in Analysis.objects.filter(study=study).values_list("results_dir", flat=True):
        published = published_dir(results_dir)  # None: still in the work area, or not trusted
        if published is not None and published.startswith(f"{study_dir}/"):
            dirs.add(published)
    return [
        Move(there / path, here / path, merge=True)
        for path in sorted(dirs)
        if (there / path).is_dir()
    ]


@dg.asset(
    partitions_def=ena_studies,
    group_name=GROUP,
    # After the ingest (privacy) and, in analysis runs, after publishing and summarising.
    deps=[ena_study, study_summary],
    kinds={"slurm"},
    # Not in the "slurm" pool: most runs have nothing to move, and would wait there behind
    # analysis steps that hold the pool for hours.
    retry_policy=dg.RetryPolicy(max_retries=2, delay=60),
    description="The study's published results sit under the results dir of its current "
    "privacy: when ENA releases a private study, its results move from the private dir to the "
    "public one (a datamover job), and back if ENA hides a public study. Nothing to move, no job.",
)
def results_privacy(
    context: dg.AssetExecutionContext, slurm: SlurmResource, pipelines: AnalysisPipelines
) -> dg.MaterializeResult:
    key = validate_study_key(context.partition_key)
    close_old_connections()
    study = study_of(key)
    if study is None:
        raise dg.Failure(
            f"study {key} is not mirrored yet: materialise ena_study first", allow_retries=False
        )
    moves = misplaced_results(study, key, pipelines)
    metadata: dict[str, Any] = {
        "mgys_accession": study.accession,
        "private": study.is_private,
        MOVED: len(moves),
    }
    if not moves:
        return dg.MaterializeResult(metadata=metadata)
    close_old_connections()  # the job may run for minutes: no connection left idle meanwhile
    there = pipelines.results_root(not study.is_private)
    source = there / study_results_dir(study.results_dir, key)
    spec = datamover_spec(
        f"results-privacy-{key}",
        dict(enumerate(moves)),
        slurm.datamover_partition,
        prune=[Prune(source, root=there)],
        lock=source,  # a rerun's job (other moves left, another name) waits for the first
    )
    result = slurm.run(spec, context=context, raise_on_failure=False)
    to = "private" if study.is_private else "public"
    if not result.succeeded:
        raise dg.Failure(
            f"moving {len(moves)} result dirs of {key} to the {to} results dir failed: "
            f"Slurm job {result.job_id} {result.state.value}: {result.reason}",
            metadata={"slurm_job_id": result.job_id, "log": str(result.log_path)},
        )
    context.log.info(f"{key} is {to}: moved {len(moves)} result dirs to the {to} results dir")
    return dg.MaterializeResult(metadata={**metadata, "slurm_job_id": result.job_id})
