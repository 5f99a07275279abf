"""A code location for the deployment tests: the platform's assets and analysis jobs, with the
Slurm and pipeline resources pointed at the test's cluster and dirs.

Served by ``dagster api grpc -m tests.deployment.code_location -a defs``; the resources' fields
come as JSON in ``EMG_TEST_CODE_LOCATION`` (``{"slurm": {...}, "pipelines": {...}}``).
"""

import json
import os

from emg_assets.orm import setup_django

setup_django()

import dagster as dg  # noqa: E402

from emg_assets.analyses.assets import ANALYSIS_ASSETS  # noqa: E402
from emg_assets.analyses.results_privacy import results_privacy  # noqa: E402
from emg_assets.analyses.settings import AnalysisPipelines  # noqa: E402
from emg_assets.ena.assets import INGEST_ASSETS  # noqa: E402
from emg_assets.jobs import ANALYSIS_JOBS  # noqa: E402
from emg_assets.resources import ena_client  # noqa: E402
from emg_django.config import get_config  # noqa: E402
from slurm_resource import SlurmResource  # noqa: E402

_spec = json.loads(os.environ["EMG_TEST_CODE_LOCATION"])

defs = dg.Definitions(
    assets=[*INGEST_ASSETS, *ANALYSIS_ASSETS, results_privacy],
    jobs=list(ANALYSIS_JOBS),
    resources={
        "ena": ena_client(get_config()),
        "slurm": SlurmResource(**_spec["slurm"]),
        "pipelines": AnalysisPipelines(**_spec["pipelines"]),
    },
)
