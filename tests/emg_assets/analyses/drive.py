"""Materialise an analysis asset in a child process (the end-to-end test kills it mid-job).

Usage: ``python -m tests.emg_assets.analyses.drive '<json>'`` with ``asset``, ``partition``,
``slurm`` (SlurmResource fields), ``pipelines`` (AnalysisPipelines fields) and ``run_config``.
The database is the one ``EMG_DATABASE__URL`` names (the test's database).
"""

from __future__ import annotations

import json
import sys


def main(argument: str) -> int:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    from emg_assets.orm import setup_django

    setup_django()
    import dagster as dg

    from emg_assets.analyses.assets import ANALYSIS_ASSETS
    from emg_assets.analyses.settings import AnalysisPipelines
    from emg_assets.partitions import add_study_partitions
    from slurm_resource import SlurmResource

    spec = json.loads(argument)
    with dg.instance_for_test() as instance:
        add_study_partitions(instance, [spec["partition"]])
        [asset] = [a for a in ANALYSIS_ASSETS if a.key.to_user_string() == spec["asset"]]
        result = dg.materialize(
            list(ANALYSIS_ASSETS),
            selection=[asset],
            partition_key=spec["partition"],
            instance=instance,
            run_config=spec.get("run_config"),
            resources={
                "slurm": SlurmResource(**spec["slurm"]),
                "pipelines": AnalysisPipelines(**spec["pipelines"]),
            },
        )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
