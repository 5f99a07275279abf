"""Benchmark: a 200-run amplicon study through the real local Slurm, and the import of its results.

1. Import of a 200-run result set (the stand-in's MGnify amplicon layout): verdicts, validation,
   parsing and the database writes -- target ≤ 10 s.
2. ``amplicon_analyses`` materialised for the study in chunks of 50 through the local Slurm
   (``slurm-dev up`` first) with the stand-in Nextflow: wall time from launch to all imported and
   published, and the platform's overhead beyond the jobs (wall time minus the span from the
   first job's start to the last job's end, per sacct) -- target ≤ 10% of the wall time.

Database ``emg_bench_analyses`` is dropped, created, migrated, and dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._support import (  # noqa: E402
    Timer,
    drop_database,
    migrate,
    recreate_database,
    setup_django,
    verdict,
)

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "emg_bench_analyses"


def _make_study(n_runs: int):  # noqa: ANN202 - Django models, imported late
    from tests.factories import make_run, make_sample, make_study

    study = make_study("PRJEB7000001")
    for index in range(n_runs):
        sample = make_sample(study, f"SAMEA70{index:05d}")
        run = f"ERR70{index:05d}"
        make_run(
            study,
            sample,
            run,
            "AMPLI",
            library_layout="PAIRED",
            fastq_files=[
                {"url": f"ftp.sra.ebi.ac.uk/vol1/fastq/{run}_{n}.fastq.gz"} for n in (1, 2)
            ],
        )
    return study


def bench_import(study, base: Path) -> float:  # noqa: ANN001
    from emg_assets.analyses import statuses
    from emg_assets.analyses.pipelines import AMPLICON
    from emg_assets.analyses.runner import Report, _store, judge_chunk
    from emg_assets.analyses.samplesheets import subject_row, write_chunk
    from emg_django.analyses.choices import PipelineVersion
    from tests.emg_assets.analyses.standin import NEXTFLOW_STANDIN

    runs = list(statuses.subjects_of(study, AMPLICON))
    statuses.ensure_analyses(study, AMPLICON, PipelineVersion.V6, runs)
    analyses = list(statuses.analyses_of(study, AMPLICON, "V6").select_related("run"))
    chunk = write_chunk(base, "PRJEB7000001", AMPLICON, [subject_row(AMPLICON, r) for r in runs])
    subprocess.run(
        [
            str(NEXTFLOW_STANDIN),
            "run",
            "ebi-metagenomics/amplicon-pipeline",
            "-r",
            "v6",
            "-profile",
            "x",
            "-work-dir",
            str(chunk.nextflow_work),
            "--input",
            str(chunk.samplesheet),
            "--outdir",
            str(chunk.outdir),
            "-with-trace",
            str(chunk.trace),
            "-ansi-log",
            "false",
        ],
        check=True,
        capture_output=True,
    )
    statuses.mark_running(a.pk for a in analyses)

    class _Job:
        succeeded = True

    with Timer() as timer:
        outcomes, results = judge_chunk(AMPLICON, chunk, analyses, _Job())  # type: ignore[arg-type]
        report = Report()
        _store(outcomes, results, report)
    print(f"import of {len(analyses)} runs: {report.imported} imported in {timer.seconds:.2f} s")
    print(verdict("import of a 200-run result set", timer.seconds, 10, "s"))
    # Back to pending for the Slurm part.
    from emg_django.analyses.models import Analysis

    Analysis.objects.all().delete()
    return timer.seconds


def bench_slurm(study, base: Path, slurm_conf: str, chunk_size: int, sample_seconds: float) -> None:  # noqa: ANN001
    import datetime as dt

    import dagster as dg

    from emg_assets.analyses.assets import ANALYSIS_ASSETS, amplicon_analyses
    from emg_assets.partitions import add_study_partitions
    from slurm_resource import SlurmResource
    from tests.emg_assets.analyses.conftest import pipelines_resource

    # The stand-in finishes a sample at once; real pipelines take minutes to hours per sample.
    env = {"NEXTFLOW_STANDIN_SLEEP": str(sample_seconds)} if sample_seconds else {}
    pipelines = pipelines_resource(base / "results", chunk_size=chunk_size, env=env)
    slurm = SlurmResource(
        transport="local",
        slurm_conf=slurm_conf,
        work_dir=str(base / "slurm"),
        poll_interval_seconds=1.0,
    )
    with dg.instance_for_test() as instance:
        add_study_partitions(instance, ["PRJEB7000001"])
        with Timer() as timer:
            result = dg.materialize(
                list(ANALYSIS_ASSETS),
                selection=[amplicon_analyses],
                partition_key="PRJEB7000001",
                instance=instance,
                resources={"slurm": slurm, "pipelines": pipelines},
                run_config={"ops": {"amplicon_analyses": {"config": {"chunk_size": chunk_size}}}},
            )
    meta = {
        k: v.value
        for k, v in result.get_asset_materialization_events()[0].materialization.metadata.items()
    }
    ids = meta["slurm_job_ids"]
    out = subprocess.run(
        ["sacct", "-X", "-P", "-n", "-j", ids, "-o", "Start,End"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SLURM_CONF": slurm_conf},
    )
    spans = [line.split("|") for line in out.stdout.split()]
    start = min(dt.datetime.fromisoformat(s) for s, _ in spans)
    end = max(dt.datetime.fromisoformat(e) for _, e in spans)
    jobs = (end - start).total_seconds()
    overhead = timer.seconds - jobs
    print(
        f"{meta['analyses_attempted']} runs in {meta['chunks']} chunks, jobs {ids}: "
        f"{meta['analyses_completed']} imported, {meta['analyses_published']} published"
    )
    print(
        f"wall {timer.seconds:.1f} s, jobs' span {jobs:.0f} s (sacct, 1 s resolution), "
        f"overhead {overhead:.1f} s"
    )
    print(
        verdict("platform overhead share of the wall time", 100 * overhead / timer.seconds, 10, "%")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument(
        "--sample-seconds",
        type=float,
        default=0.0,
        help="seconds the stand-in pipeline spends per sample (0: none)",
    )
    parser.add_argument(
        "--slurm-conf", default=os.environ.get("SLURM_CONF", "/tmp/emg-slurm-dev/etc/slurm.conf")
    )
    args = parser.parse_args()
    url = recreate_database(SERVER, DATABASE)
    base = Path(tempfile.mkdtemp(prefix="emg-bench-analyses-"))
    try:
        setup_django(url)
        migrate()
        study = _make_study(args.runs)
        bench_import(study, base / "import")
        bench_slurm(study, base, args.slurm_conf, args.chunk_size, args.sample_seconds)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(SERVER, DATABASE)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
