"""Benchmark: ingest one big study from the fake ENA into Postgres through the real Dagster assets.

What it does, on a fresh database (dropped and re-created, then migrated):

1. starts the fake ENA (a test fixture) in a subprocess with one generated study of
   ``--samples`` samples and ``--runs`` runs (its memory is reported apart);
2. materialises ``INGEST_ASSETS`` (ena_study → ena_samples → ena_read_runs → ena_assemblies) for
   the study's partition with ``dg.materialize`` on a Dagster instance in a temporary
   DAGSTER_HOME (SQLite), end to end: HTTP, parsing, bulk upserts, Dagster events;
3. materialises it again (nothing changes: every row must come back "unchanged");
4. compares the bulk writes with the naive way, on the same parsed records and emptied tables:
   ``write_samples`` + ``write_runs`` (bulk upserts) against one ``update_or_create`` per ENA
   sample, MGnify sample and run (plus ``sample.studies.add``), each kind in one transaction.

Targets (issue #3): end to end ≤ 15 s, peak RSS ≤ 500 MB, bulk ≥ 20× faster than per-row.
It prints figures and PASS/MISS, and exits 0 on a miss (it is a benchmark, not a test).

    .venv/bin/python bench/ingest_study.py            # 10,000 samples, 20,000 runs
    .venv/bin/python bench/ingest_study.py --samples 1000 --runs 2000 --baseline-limit 0
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import platform
import pstats
import sys
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
    migrate,
    peak_rss_mb,
    recreate_database,
    setup_django,
    temp_dagster_home,
    verdict,
)

TARGET_SECONDS = 15.0
TARGET_RSS_MB = 500.0
TARGET_RATIO = 20.0
#: Dagster's console logger at WARNING: its DEBUG lines would drown the figures.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--samples", type=int, default=10_000, help="samples of the generated study"
    )
    parser.add_argument("--runs", type=int, default=20_000, help="runs of the generated study")
    parser.add_argument(
        "--database",
        default="emg_bench_ingest",
        help="scratch database (dropped and re-created; must start with emg_bench)",
    )
    parser.add_argument(
        "--server-url", default=DEFAULT_SERVER_URL, help="Postgres server, no database"
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="do not drop the database at the end"
    )
    parser.add_argument(
        "--baseline-limit",
        type=int,
        default=-1,
        help="per-row baseline on the first N samples and their runs "
        "(-1: all records, 0: skip the baseline)",
    )
    parser.add_argument(
        "--fake-in-process",
        action="store_true",
        help="run the fake ENA in this process (its memory then counts in the peak RSS)",
    )
    parser.add_argument(
        "--no-debug",
        action="store_true",
        help="EMG_DJANGO__DEBUG=false (a throwaway secret key); "
        "default is debug, as in development",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="cProfile the first materialisation into FILE and print the top functions",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    check_db_name(args.database)
    table = Table()
    print(
        f"ENA ingest benchmark: {args.samples:,} samples, {args.runs:,} runs "
        f"({platform.node()}, {__import__('os').cpu_count()} cores, "
        f"Python {platform.python_version()})"
    )

    # -- database -------------------------------------------------------------------------------
    with Timer() as t:
        url = recreate_database(args.server_url, args.database)
        setup_django(url, debug=not args.no_debug)
        migrate_seconds = migrate()
    table.add(
        "create + migrate database",
        t.seconds,
        note=f"migrate {migrate_seconds:.1f} s; not in the target",
    )

    # -- fake ENA -------------------------------------------------------------------------------
    fake_process = fake = None
    with Timer() as t:
        if args.fake_in_process:
            from tests.fakes.ena.datasets import generate_study
            from tests.fakes.ena.server import FakeENA

            fake = FakeENA().start()
            study_accession = generate_study(fake, None, args.samples, args.runs, seed=1).accession
            portal_api_url = fake.portal_api_url
        else:
            fake_process = FakeENAProcess(
                [
                    "--dataset",
                    "generated",
                    "--studies",
                    "0",
                    "--big-samples",
                    str(args.samples),
                    "--big-runs",
                    str(args.runs),
                    "--seed",
                    "1",
                ]
            )
            match = fake_process.find(r"big study: (\S+)")
            assert match, fake_process.lines
            study_accession = match.group(1)
            portal_api_url = fake_process.portal_api_url
    table.add(
        "start fake ENA + generate", t.seconds, note="subprocess" if fake_process else "in process"
    )

    try:
        return _run(args, table, study_accession, portal_api_url, fake_process)
    finally:
        if fake is not None:
            fake.stop()
        if fake_process is not None:
            fake_process.stop()
        if not args.keep_database:
            from django.db import connections

            connections.close_all()
            drop_database(args.server_url, args.database)


def _client(portal_api_url: str):  # noqa: ANN202
    from emg_assets.ena.client import ENAClient

    return ENAClient(portal_api_url=portal_api_url, max_requests_per_second=50, timeout_seconds=120)


def _run(
    args: argparse.Namespace,
    table: Table,
    key: str,
    portal_api_url: str,
    fake_process: FakeENAProcess | None,
) -> int:
    import dagster as dg

    from emg_assets.ena.assets import INGEST_ASSETS
    from emg_assets.partitions import add_study_partitions
    from emg_django.analyses.models import Run, Sample
    from emg_django.ena import models as ena_models

    def counts() -> dict[str, int]:
        return {
            "ena_samples": ena_models.Sample.objects.count(),
            "samples": Sample.objects.count(),
            "runs": Run.objects.count(),
        }

    expected_rows = 1 + 2 * args.samples + args.runs  # study + ENA/MGnify samples + runs
    with temp_dagster_home() as home:
        instance = dg.DagsterInstance.get()
        add_study_partitions(instance, [key])
        client = _client(portal_api_url)

        def materialize() -> dg.ExecuteInProcessResult:
            return dg.materialize(
                INGEST_ASSETS,
                partition_key=key,
                instance=instance,
                resources={"ena": client},
                run_config=QUIET,
            )

        profiler = cProfile.Profile() if args.profile else None
        with Timer() as first:
            if profiler:
                profiler.enable()
            result = materialize()
            if profiler:
                profiler.disable()
        assert result.success
        first_rss = peak_rss_mb()
        found = counts()
        table.add(
            "1st materialisation (end to end)",
            first.seconds,
            sum(found.values()) + 1,
            rss=first_rss,
            note=", ".join(f"{k}={v:,}" for k, v in found.items()),
        )
        step_seconds = _step_seconds(instance, result.run_id)
        for step, seconds in step_seconds.items():
            table.add(f"  step {step}", seconds, rss=first_rss)

        with Timer() as second:
            again = materialize()
        assert again.success
        unchanged = _unchanged(again)
        table.add(
            "2nd materialisation (no change)",
            second.seconds,
            sum(counts().values()) + 1,
            note=unchanged,
        )
        for step, seconds in _step_seconds(instance, again.run_id).items():
            table.add(f"  step {step}", seconds)
        ingest_rss = peak_rss_mb()
        instance.dispose()
        print(f"  (Dagster home {home}, SQLite storage)")

    if profiler:
        profiler.dump_stats(str(args.profile))
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        print(out.getvalue())

    ratio = None
    if args.baseline_limit != 0:
        ratio = _baseline(args, table, key, portal_api_url)

    fake_rss = fake_process.peak_rss_mb if fake_process else None
    print()
    print(table.render())
    print()
    if fake_rss is not None:
        print(
            f"fake ENA subprocess peak RSS: {fake_rss:.0f} MB (not counted in the benchmark's RSS)"
        )
    print(
        f"benchmark process peak RSS after both materialisations: {ingest_rss:.0f} MB; at the end: "
        f"{peak_rss_mb():.0f} MB"
    )
    print(f"rows expected: {expected_rows:,} (study, ENA samples, MGnify samples, runs)")
    print()
    print(f"Targets ({dt.date.today()}):")
    print(verdict("end to end, 1st materialisation", first.seconds, TARGET_SECONDS, "s"))
    print(verdict("peak RSS of the ingest (this process)", first_rss, TARGET_RSS_MB, "MB"))
    print(f"  info  2nd materialisation (no change): {second.seconds:.2f} s")
    if ratio is not None:
        print(
            verdict(
                "bulk vs per-row update_or_create (same records)",
                ratio,
                TARGET_RATIO,
                "×",
                higher_is_better=True,
            )
        )
    return 0


def _step_seconds(instance, run_id: str) -> dict[str, float]:  # noqa: ANN001
    """Wall time of each step of a run, from its STEP_START/STEP_SUCCESS events."""
    import dagster as dg

    starts: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = record.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS and event.step_key in starts:
            seconds[event.step_key] = record.timestamp - starts[event.step_key]
    return seconds


def _unchanged(result) -> str:  # noqa: ANN001
    changed = 0
    unchanged = 0
    for event in result.get_asset_materialization_events():
        for label, value in event.materialization.metadata.items():
            if label.endswith(("_inserted", "_updated")):
                changed += int(value.value)
            elif label.endswith("_unchanged"):
                unchanged += int(value.value)
    return f"inserted+updated={changed}, unchanged={unchanged:,}"


def _truncate() -> None:
    from django.db import connection

    from emg_django.analyses.models import Run, Sample
    from emg_django.ena import models as ena_models

    tables = [
        Run._meta.db_table,
        Sample.studies.through._meta.db_table,
        Sample._meta.db_table,
        ena_models.Sample._meta.db_table,
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def _baseline(args: argparse.Namespace, table: Table, key: str, portal_api_url: str) -> float:
    """Bulk writes vs per-row update_or_create on the same parsed records, into emptied tables."""
    from emg_assets.ena.ingest import RunPolicy, study_of, write_runs, write_samples
    from emg_django.analyses.models import Run, Sample
    from emg_django.ena import models as ena_models

    study = study_of(key)
    client = _client(portal_api_url)
    with Timer() as t:
        samples = client.get_samples(key).records
        runs = client.get_read_runs(key).records
    table.add("fetch + parse samples and runs (no DB)", t.seconds, len(samples) + len(runs))
    if args.baseline_limit > 0:
        samples = samples[: args.baseline_limit]
        kept = {s.sample_accession for s in samples}
        runs = [r for r in runs if r.sample_accession in kept]
    n_rows = 2 * len(samples) + len(runs)
    policy = RunPolicy()

    _truncate()
    with Timer() as bulk:
        write_samples(study, samples)
        write_runs(study, runs, policy)
    bulk_counts = (ena_models.Sample.objects.count(), Sample.objects.count(), Run.objects.count())
    table.add(
        "bulk: write_samples + write_runs",
        bulk.seconds,
        n_rows,
        note="emptied tables, same records",
    )

    _truncate()
    with Timer() as naive:
        _naive_write(study, samples, runs, policy)
    naive_counts = (ena_models.Sample.objects.count(), Sample.objects.count(), Run.objects.count())
    table.add(
        "per-row update_or_create", naive.seconds, n_rows, note="emptied tables, same records"
    )
    if naive_counts != bulk_counts:
        print(
            "  WARNING: the two ways wrote different row counts: "
            f"bulk {bulk_counts}, per-row {naive_counts}"
        )
    ratio = naive.seconds / bulk.seconds
    print(f"  … per-row / bulk: {ratio:.1f}×")
    return ratio


def _naive_write(study, samples, runs, policy) -> None:  # noqa: ANN001
    """The naive way: one update_or_create per object (each kind in one transaction, which is
    kinder to it than autocommit), with the same rows as emg_assets.ena.ingest builds."""
    from django.db import transaction

    from emg_assets.ena.ingest import WriteReport, ena_sample_row, run_row, sample_row
    from emg_django.analyses.models import Run, Sample
    from emg_django.ena import models as ena_models

    def defaults(row: dict) -> dict:
        return {key: value for key, value in row.items() if key != "accession"}

    visibility = study.ena_study.visibility()
    sample_ids: dict[str, int] = {}
    with transaction.atomic():
        for r in samples:
            ena_sample, _ = ena_models.Sample.objects.update_or_create(
                accession=r.sample_accession,
                defaults=defaults(ena_sample_row(r, study.ena_study_id, visibility)),
            )
            sample, _ = Sample.objects.update_or_create(
                accession=r.sample_accession,
                defaults=defaults(sample_row(r, ena_sample.pk, visibility)),
            )
            sample.studies.add(study)
            sample_ids[r.sample_accession] = sample.pk
    report = WriteReport()
    with transaction.atomic():
        for r in runs:
            if policy.refusal(r) is not None or r.sample_accession not in sample_ids:
                continue
            row = run_row(r, study.pk, sample_ids[r.sample_accession], policy, visibility, report)
            Run.objects.update_or_create(accession=r.run_accession, defaults=defaults(row))


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"(benchmark wall time {time.perf_counter() - started:.0f} s)")
    sys.exit(code)
