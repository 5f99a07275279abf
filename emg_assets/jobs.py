"""Jobs, composed across the asset domains.

Every job ends with ``results_privacy``, so a study's published results sit under the results
dir of its privacy: ``ena_ingest`` (launched by the sensors for new studies and for studies ENA
changed) moves a released study's results in the same run; the analysis jobs catch results they
published while the study's privacy changed.
"""

import dagster as dg

from emg_assets.analyses.assets import ANALYSIS_ASSETS, PIPELINE_ASSETS, PIPELINE_TAG, study_summary
from emg_assets.analyses.pipelines import PIPELINES
from emg_assets.analyses.results_privacy import results_privacy
from emg_assets.ena.assets import INGEST_ASSETS
from emg_django.analyses.choices import INGEST_JOB_NAME, analysis_job_name

ena_ingest_job = dg.define_asset_job(
    INGEST_JOB_NAME,
    selection=dg.AssetSelection.assets(*INGEST_ASSETS, results_privacy),
    # A chain of short, I/O-bound steps: a process per step would cost more than the steps.
    executor_def=dg.in_process_executor,
    description="Mirror one study from ENA (study, samples, runs, assemblies), then move its "
    "published results to the results dir of its privacy if ENA changed it.",
)

#: One job per pipeline, tagged so dagster.yaml's tag limit applies per pipeline.
pipeline_jobs = [
    dg.define_asset_job(
        analysis_job_name(name),
        selection=dg.AssetSelection.assets(asset, study_summary, results_privacy),
        tags={PIPELINE_TAG: name.value},
        description=f"Run the {PIPELINES[name].title} pipeline on a study and summarise it.",
    )
    for name, asset in PIPELINE_ASSETS.items()
]
analyse_study_job = dg.define_asset_job(
    "analyse_study",
    selection=dg.AssetSelection.assets(*ANALYSIS_ASSETS, results_privacy),
    tags={PIPELINE_TAG: "all"},
    description="Run every analysis pipeline that applies to a study, then summarise it.",
)
ANALYSIS_JOBS = (*pipeline_jobs, analyse_study_job)
