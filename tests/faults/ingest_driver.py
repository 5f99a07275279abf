"""Run the ENA ingest in a child process against the database ``EMG_DATABASE__URL`` names.

Usage: ``python -m tests.faults.ingest_driver '<json>'`` with ``portal_api_url``, ``partition``
and ``dagster_home`` (a persistent instance, so the retry is a second run of the same
partition), and optionally ``migrate: true`` (create the schema first). Prints one line
``RESULT {"success": …, "steps": {step: outcome}, "error": "…"}``.

The fault test restarts a private Postgres under this process mid-ingest.
"""

from __future__ import annotations

import json
import os
import sys


def main(argument: str) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    from emg_assets.orm import setup_django

    setup_django()
    spec = json.loads(argument)
    if spec.get("migrate"):
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        print("RESULT " + json.dumps({"success": True, "steps": {}, "error": ""}), flush=True)
        return 0

    import dagster as dg

    from emg_assets.ena.assets import INGEST_ASSETS
    from emg_assets.ena.client import ENAClient
    from emg_assets.partitions import add_study_partitions
    from tests.fakes.ena.datasets import DATAHUB_PASSWORD, DATAHUB_USERNAME

    ena = ENAClient(
        portal_api_url=spec["portal_api_url"],
        datahub_username=DATAHUB_USERNAME,
        datahub_password=DATAHUB_PASSWORD,
        timeout_seconds=30,
        backoff_base_seconds=0.01,
        backoff_cap_seconds=0.05,
    )
    os.makedirs(spec["dagster_home"], exist_ok=True)
    instance = dg.DagsterInstance.local_temp(tempdir=spec["dagster_home"])
    add_study_partitions(instance, [spec["partition"]])
    result = dg.materialize(
        INGEST_ASSETS,
        partition_key=spec["partition"],
        instance=instance,
        resources={"ena": ena},
        raise_on_error=False,
    )
    steps: dict[str, str] = {}
    error = ""
    for event in result.all_events:
        if event.is_step_success:
            steps[event.step_key] = "success"
        elif event.is_step_failure:
            steps[event.step_key] = "failure"
            error = error or event.step_failure_data.error.to_string()
    print(
        "RESULT " + json.dumps({"success": result.success, "steps": steps, "error": error}),
        flush=True,
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
