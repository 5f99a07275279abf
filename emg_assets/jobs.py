"""Jobs that span the asset domains.

``ena_ingest`` mirrors a study from ENA, then makes its published results follow its privacy
(``results_privacy``): the sensors launch it for new studies and for studies ENA changed, so a
study released from its embargo is mirrored as public and its results move in the same run.
"""

import dagster as dg

from emg_assets.analyses.results_privacy import results_privacy
from emg_assets.ena.assets import INGEST_ASSETS
from emg_django.analyses.choices import INGEST_JOB_NAME

ena_ingest_job = dg.define_asset_job(
    INGEST_JOB_NAME,
    selection=dg.AssetSelection.assets(*INGEST_ASSETS, results_privacy),
    # A chain of short, I/O-bound steps: a process per step would cost more than the steps.
    executor_def=dg.in_process_executor,
    description="Mirror one study from ENA (study, samples, runs, assemblies), then move its "
    "published results to the results dir of its privacy if ENA changed it.",
)
