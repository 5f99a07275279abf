"""Results follow their study's privacy: when ENA releases a private study (its embargo ends),
the study's published results move from the private to the public results dir, and back if ENA
ever shows a public study only to the data-hub account.

A private study's analyses and summaries are published under ``private_dir``, which no web server
publishes (the API serves them to their owner); a public study's under ``public_dir``, served by
the results host, where the API points their download URLs. :func:`results_privacy` ends every
job (``ena_ingest``, which the sensors launch when ENA changed a study, and the analysis jobs):
when the study's dir exists under the root of the other privacy, one ``datamover`` job merges it
into the study's dir under its own root (whatever got there, published or not, and however
recorded). The merge is idempotent, holds the study's lock (publishing jobs of the study wait)
and is found again by its job name after a restart. Until it ends, the new URLs of the moved
files answer 404.
"""

# No `from __future__ import annotations` here: Dagster reads resource types from the
# function annotations at definition time.

from typing import Any

import dagster as dg
from django.db import close_old_connections

from emg_assets.analyses.assets import study_summary
from emg_assets.analyses.publish import (
    Move,
    Prune,
    datamover_spec,
    study_lock,
    study_results_dir,
)
from emg_assets.analyses.settings import AnalysisPipelines
from emg_assets.ena.assets import INGEST_ASSETS
from emg_assets.ena.ingest import study_of
from emg_assets.partitions import ena_studies, validate_study_key
from emg_django.analyses.models import Study
from slurm_resource import SlurmResource

GROUP = "analyses"
MOVED = "moved"


def misplaced_results(study: Study, study_key: str, pipelines: AnalysisPipelines) -> Move | None:
    """The move bringing the study's published results that sit under the root of the other
    privacy to the root of its own: the whole study dir, merged into what the right root may
    already hold (files there may be newer, and stay). ``None``: nothing misplaced."""
    here = pipelines.results_root(study.is_private)
    there = pipelines.results_root(not study.is_private)
    study_dir = study_results_dir(study.results_dir, study_key)
    if here.resolve() == there.resolve() or not (there / study_dir).is_dir():
        return None  # the usual case: one stat
    return Move(there / study_dir, here / study_dir, merge=True)


@dg.asset(
    partitions_def=ena_studies,
    group_name=GROUP,
    # Last: after the ingest (privacy) and, in analysis runs, after publishing and summarising.
    deps=[*INGEST_ASSETS, study_summary],
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
    move = misplaced_results(study, key, pipelines)
    metadata: dict[str, Any] = {
        "mgys_accession": study.accession,
        "private": study.is_private,
        MOVED: move is not None,
    }
    if move is None:
        return dg.MaterializeResult(metadata=metadata)
    close_old_connections()  # the job may run for minutes: no connection left idle meanwhile
    there = pipelines.results_root(not study.is_private)
    spec = datamover_spec(
        f"results-privacy-{key}",
        {0: move},
        slurm.datamover_partition,
        prune=[Prune(move.source, root=there)],
        # Publishing jobs of the study, and a rerun's job while this one still runs, wait.
        lock=study_lock(slurm.work_dir, key),
    )
    result = slurm.run(spec, context=context, raise_on_failure=False)
    to = "private" if study.is_private else "public"
    if not result.succeeded:
        raise dg.Failure(
            f"moving the results of {key} to the {to} results dir failed: "
            f"Slurm job {result.job_id} {result.state.value}: {result.reason}",
            metadata={"slurm_job_id": result.job_id, "log": str(result.log_path)},
        )
    context.log.info(f"{key} is {to}: moved {move.source} into {move.destination}")
    return dg.MaterializeResult(metadata={**metadata, "slurm_job_id": result.job_id})
