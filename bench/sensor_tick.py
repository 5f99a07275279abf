"""Benchmark: a tick of the ``new_ena_studies`` sensor with 5,000 new studies in one ENA answer.

The fake ENA (a test fixture) runs in a subprocess with ``--studies`` generated studies made public
over ``--days`` days. For each Dagster instance storage (SQLite in a temporary DAGSTER_HOME, and
Postgres with ``--postgres``), on an empty instance:

1. a tick with the default cap (``SensorsConfig.max_run_requests_per_tick``, 200 run requests);
2. on a fresh instance, a tick with the cap raised to the number of studies (5,000), then the
   time to apply its ``dynamic_partitions_requests`` (add 5,000 partitions, as the daemon does),
   then a second tick from the returned cursor (nothing new).

A tick is timed as the sensor's evaluation (``build_sensor_context`` + the sensor function: the
ENA request, parsing, loading the existing partitions, planning). The daemon's own work of
turning run requests into queued runs (~240 ms each, see /work/shared/ENVIRONMENT.md) is not
included. Target (issue #3): ≤ 10 s per tick. Exits 0 on a miss (a benchmark, not a test).

    .venv/bin/python bench/sensor_tick.py               # SQLite instance
    .venv/bin/python bench/sensor_tick.py --postgres    # SQLite, then Postgres (emg_bench_dagster)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (  # noqa: E402
    DEFAULT_SERVER_URL,
    FakeENAProcess,
    Table,
    Timer,
    check_db_name,
    drop_database,
    peak_rss_mb,
    recreate_database,
    setup_django,
    temp_dagster_home,
    verdict,
)

TARGET_SECONDS = 10.0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--studies", type=int, default=5_000, help="new studies in the ENA answer")
    parser.add_argument(
        "--first-public",
        type=dt.date.fromisoformat,
        default=dt.date(2026, 1, 1),
        help="first day of the studies' first_public dates (the sensor's start date)",
    )
    parser.add_argument(
        "--days", type=int, default=30, help="spread the studies over this many days"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also on a Postgres instance storage (dagster-postgres)",
    )
    parser.add_argument(
        "--postgres-database",
        default="emg_bench_dagster",
        help="database of the Postgres instance "
        "(dropped and re-created; must start with emg_bench)",
    )
    parser.add_argument(
        "--server-url", default=DEFAULT_SERVER_URL, help="Postgres server, no database"
    )
    return parser.parse_args(argv)


def _postgres_yaml(database: str) -> str:
    return (
        "storage:\n"
        "  postgres:\n"
        "    postgres_db:\n"
        "      hostname: 127.0.0.1\n"
        "      port: 5432\n"
        "      username: postgres\n"
        f"      db_name: {database}\n"
        "      scheme: postgresql+psycopg2\n"
    )


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.postgres:
        check_db_name(args.postgres_database)
    print(
        f"new_ena_studies sensor benchmark: {args.studies:,} new studies over {args.days} days "
        f"({platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()})"
    )
    # The sensor module imports the Django models: settings are needed, the database is not used.
    scratch = tempfile.mkdtemp(prefix="emg-bench-sensor-")
    setup_django(f"sqlite:///{scratch}/unused.sqlite3")

    table = Table()
    with Timer() as t:
        fake = FakeENAProcess(
            [
                "--dataset",
                "generated",
                "--studies",
                str(args.studies),
                "--first-public",
                args.first_public.isoformat(),
                "--days",
                str(args.days),
            ]
        )
    table.add("start fake ENA + generate", t.seconds, args.studies, note="subprocess")
    storages = ["sqlite"] + (["postgres"] if args.postgres else [])
    results: dict[str, dict[str, float]] = {}
    try:
        for storage in storages:
            results[storage] = _bench(args, table, storage, fake.portal_api_url)
    finally:
        fake_rss = fake.peak_rss_mb
        fake.stop()
        if args.postgres:
            drop_database(args.server_url, args.postgres_database)

    print()
    print(table.render())
    print()
    print(f"fake ENA subprocess peak RSS: {fake_rss:.0f} MB; this process: {peak_rss_mb():.0f} MB")
    print(
        "Tick = the sensor's evaluation; the daemon's turning of run requests into queued runs "
        "(~240 ms per run) is not included."
    )
    print()
    print(f"Targets ({dt.date.today()}):")
    for storage, figures in results.items():
        for name, seconds in figures.items():
            print(verdict(f"{storage}: {name}", seconds, TARGET_SECONDS, "s"))
    return 0


def _bench(
    args: argparse.Namespace, table: Table, storage: str, portal_api_url: str
) -> dict[str, float]:
    import dagster as dg

    from emg_assets.ena.client import ENAClient
    from emg_assets.partitions import STUDY_PARTITIONS_NAME
    from emg_django.config import SensorsConfig
    from sensors.new_ena_studies import build_new_ena_studies_sensor

    default = SensorsConfig(new_studies_start_date=args.first_public)
    # SensorsConfig refuses a cap above 1,000 (le=1000): the benchmark bypasses the validation.
    raised = default.model_copy(update={"max_run_requests_per_tick": args.studies})
    client = ENAClient(
        portal_api_url=portal_api_url, max_requests_per_second=50, timeout_seconds=120
    )
    figures: dict[str, float] = {}

    def tick(
        sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None
    ) -> tuple[dg.SensorResult, float]:
        with (
            Timer() as timer,
            dg.build_sensor_context(
                instance=instance, cursor=cursor, resources={"ena": client}
            ) as context,
        ):
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        return result, timer.seconds

    def apply(instance: dg.DagsterInstance, result: dg.SensorResult) -> tuple[int, float]:
        added = 0
        with Timer() as timer:
            for request in result.dynamic_partitions_requests or []:
                instance.add_dynamic_partitions(
                    request.partitions_def_name, list(request.partition_keys)
                )
                added += len(request.partition_keys)
        return added, timer.seconds

    for label, settings in (("cap 200 (default)", default), (f"cap {args.studies:,}", raised)):
        yaml_text = ""
        if storage == "postgres":
            recreate_database(args.server_url, args.postgres_database)
            yaml_text = _postgres_yaml(args.postgres_database)
        with temp_dagster_home(yaml_text):
            instance = dg.DagsterInstance.get()
            sensor = build_new_ena_studies_sensor(settings)
            result, seconds = tick(sensor, instance, None)
            name = f"1st tick, {label}"
            table.add(
                f"{storage}: {name}",
                seconds,
                len(result.run_requests),
                note=f"{len(result.run_requests):,} run requests",
            )
            figures[name] = seconds
            added, seconds = apply(instance, result)
            table.add(
                f"{storage}:   add partitions",
                seconds,
                added,
                note=f"{len(instance.get_dynamic_partitions(STUDY_PARTITIONS_NAME)):,} "
                "partitions now",
            )
            result2, seconds = tick(sensor, instance, result.cursor)
            name = f"2nd tick, {label}"
            nothing_new = settings is raised
            table.add(
                f"{storage}: {name}",
                seconds,
                len(result2.run_requests),
                note=f"{len(result2.run_requests):,} run requests"
                + (" (nothing new)" if nothing_new else " (the next ones)"),
            )
            figures[name] = seconds
            if nothing_new and result2.run_requests:
                print(
                    f"  WARNING: the 2nd tick requested {len(result2.run_requests)} runs; "
                    "expected none"
                )
            instance.dispose()
    return figures


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"(benchmark wall time {time.perf_counter() - started:.0f} s)")
    sys.exit(code)
