"""The code location's definitions (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from emg_assets.orm import setup_django

setup_django()

from emg_assets.analyses.assets import ANALYSIS_ASSETS  # noqa: E402
from emg_assets.analyses.results_privacy import results_privacy  # noqa: E402
from emg_assets.ena.assets import INGEST_ASSETS  # noqa: E402
from emg_assets.jobs import ANALYSIS_JOBS, ena_ingest_job  # noqa: E402
from emg_assets.resources import (  # noqa: E402
    analysis_pipelines,
    ena_client,
    slack_webhook,
    slurm_cluster,
)
from emg_django.config import get_config  # noqa: E402
from sensors.ena_sync import ena_sync  # noqa: E402
from sensors.new_ena_studies import new_ena_studies  # noqa: E402
from sensors.run_failure import notify_run_failure  # noqa: E402

config = get_config()

defs = dg.Definitions(
    assets=[*INGEST_ASSETS, *ANALYSIS_ASSETS, results_privacy],
    jobs=[ena_ingest_job, *ANALYSIS_JOBS],
    sensors=[new_ena_studies, ena_sync, notify_run_failure],
    resources={
        "ena": ena_client(config),
        "slack": slack_webhook(config),
        "slurm": slurm_cluster(config),
        "pipelines": analysis_pipelines(config),
    },
)
