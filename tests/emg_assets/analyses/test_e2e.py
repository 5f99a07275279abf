"""End to end on the real Postgres, the real Slurm (through ssh) and the fake ENA.

The sensor finds two new studies → ingest → amplicon and raw-reads analyses as Slurm jobs over
ssh (the stand-in Nextflow) → results imported and published → the API serves them. Then the
same again with the analysis step killed mid-job: the restarted step reattaches to the running
job (no twin is submitted) and ends in the same state.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from django.db import connection
from django.test import Client

from emg_assets.analyses.assets import ANALYSIS_ASSETS, amplicon_analyses, rawreads_analyses
from emg_assets.ena.assets import INGEST_ASSETS
from emg_django.analyses.choices import AnalysisStatus
from emg_django.analyses.models import Analysis
from emg_django.config import SensorsConfig
from sensors.new_ena_studies import build_new_ena_studies_sensor
from slurm_resource import SlurmResource
from tests.emg_assets.analyses.conftest import pipelines_resource
from tests.fakes.ena.datasets import generate_study
from tests.slurm_resource.conftest import Cluster, unique_dir

pytestmark = [pytest.mark.slurm, pytest.mark.ssh, pytest.mark.django_db(transaction=True)]

S = AnalysisStatus
REPO = Path(__file__).resolve().parents[3]
FIRST_PUBLIC = dt.date(2026, 5, 4)
BIOME = {"biome": "root:Environmental:Aquatic:Marine"}


def _ssh_slurm(cluster: Cluster, base: Path) -> dict:
    return {
        "transport": "ssh",
        "work_dir": str(base / "slurm"),
        "poll_interval_seconds": 0.5,
        "slurm_conf": cluster.slurm_conf,
        **cluster.ssh_settings(),
    }


def _statuses(accessions: list[str]) -> list[str]:
    found = dict(
        Analysis.objects.filter(run__accession__in=accessions).values_list(
            "run__accession", "status"
        )
    )
    return [found.get(a, "") for a in accessions]


def _sensor_keys(instance: dg.DagsterInstance, ena, wanted: set[str]) -> list[str]:
    sensor = build_new_ena_studies_sensor(SensorsConfig(new_studies_start_date=FIRST_PUBLIC))
    with dg.build_sensor_context(instance=instance, resources={"ena": ena}) as context:
        result = sensor(context)
    keys = [r.partition_key for r in result.run_requests if r.partition_key in wanted]
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return keys


def test_sensor_to_api_through_slurm_over_ssh(cluster: Cluster, instance, ena, fake_ena) -> None:
    amplicon = generate_study(
        fake_ena, None, 3, 3, seed=11, library_strategy="AMPLICON", first_public=FIRST_PUBLIC
    )
    wgs = generate_study(fake_ena, None, 3, 3, seed=12, first_public=FIRST_PUBLIC)
    keys = _sensor_keys(instance, ena, {amplicon.accession, wgs.accession})
    assert sorted(keys) == sorted([amplicon.accession, wgs.accession])

    base = unique_dir(cluster.work_dir, "analyses-e2e")
    amplicon_runs, wgs_runs = sorted(amplicon.run_accessions), sorted(wgs.run_accessions)
    env = {
        "NEXTFLOW_STANDIN_QC_FAIL": f"{amplicon_runs[1]},{wgs_runs[1]}",
        "NEXTFLOW_STANDIN_MALFORMED": wgs_runs[2],
    }
    pipelines = pipelines_resource(base / "results", chunk_size=2, env=env, dir_mode=0o777)
    slurm = SlurmResource(**_ssh_slurm(cluster, base))
    resources = {"ena": ena, "slurm": slurm, "pipelines": pipelines}
    for key, asset in ((amplicon.accession, amplicon_analyses), (wgs.accession, rawreads_analyses)):
        dg.materialize(
            list(INGEST_ASSETS), partition_key=key, instance=instance, resources={"ena": ena}
        )
        result = dg.materialize(
            [*INGEST_ASSETS, *ANALYSIS_ASSETS],
            selection=[asset],
            partition_key=key,
            instance=instance,
            resources=resources,
            run_config={"ops": {asset.key.to_user_string(): {"config": BIOME}}},
        )
        assert all(c.passed for c in result.get_asset_check_evaluations())

    assert _statuses(amplicon_runs) == [S.ANNOTATIONS_IMPORTED, S.QC_FAILED, S.ANNOTATIONS_IMPORTED]
    assert _statuses(wgs_runs) == [S.ANNOTATIONS_IMPORTED, S.QC_FAILED, S.FAILED]
    client = Client()
    listed = client.get("/api/v2/analyses/", {"page_size": 50}).json()
    assert listed["count"] == 6
    done = Analysis.objects.get(run__accession=wgs_runs[0])
    detail = client.get(f"/api/v2/analyses/{done.accession}").json()
    aliases = {d["alias"] for d in detail["downloads"]}
    assert f"{wgs_runs[0]}_motus.txt.gz" in aliases
    assert (Path(pipelines.public_dir) / done.results_dir / "qc").is_dir()
    pfams = client.get(f"/api/v2/analyses/{done.accession}/annotations/pfams").json()
    assert pfams["count"] == 4 and pfams["items"][0]["accession"].startswith("PF")
    motus = client.get(f"/api/v2/analyses/{done.accession}/annotations/taxonomies__motus").json()
    assert motus["count"] == 3


def _job_dirs(base: Path) -> list[Path]:
    return sorted(p for p in (base / "slurm").glob("emg-amplicon-*") if (p / "jobids").is_file())


def test_killed_step_reattaches_without_a_twin(cluster: Cluster, instance, ena, fake_ena) -> None:
    study = generate_study(
        fake_ena, None, 4, 4, seed=21, library_strategy="AMPLICON", first_public=FIRST_PUBLIC
    )
    [key] = _sensor_keys(instance, ena, {study.accession})
    dg.materialize(
        list(INGEST_ASSETS), partition_key=key, instance=instance, resources={"ena": ena}
    )
    runs = sorted(study.run_accessions)
    base = unique_dir(cluster.work_dir, "analyses-kill")
    env = {"NEXTFLOW_STANDIN_SLEEP": "4", "NEXTFLOW_STANDIN_QC_FAIL": runs[3]}
    pipelines = pipelines_resource(base / "results", chunk_size=2, env=env, dir_mode=0o777)
    slurm = _ssh_slurm(cluster, base)
    spec = {
        "asset": "amplicon_analyses",
        "partition": key,
        "slurm": slurm,
        "pipelines": pipelines.model_dump(),
        "run_config": {"ops": {"amplicon_analyses": {"config": BIOME}}},
    }
    database = connection.settings_dict
    child_env = {
        **os.environ,
        "EMG_DATABASE__URL": (
            f"postgresql://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
    }
    import json

    child = subprocess.Popen(
        [sys.executable, "-m", "tests.emg_assets.analyses.drive", json.dumps(spec)],
        cwd=REPO,
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_job_dirs(base)) < 2:
            time.sleep(0.2)
        assert len(_job_dirs(base)) == 2, "the child never submitted its two chunk jobs"
        assert _statuses(runs) == [S.RUNNING] * 4
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the worker dies; its Slurm jobs keep running
        child.wait(timeout=30)
    names = [p.name for p in _job_dirs(base)]
    running = [
        cluster.slurm("squeue", "-h", "-n", name, "-o", "%i").stdout.split() for name in names
    ]
    assert all(len(ids) == 1 for ids in running), "the jobs should outlive the killed step"

    result = dg.materialize(
        [*INGEST_ASSETS, *ANALYSIS_ASSETS],
        selection=[amplicon_analyses],
        partition_key=key,
        instance=instance,
        resources={"ena": ena, "slurm": SlurmResource(**slurm), "pipelines": pipelines},
        run_config=spec["run_config"],
    )
    meta = {
        k: v.value
        for k, v in result.get_asset_materialization_events()[0].materialization.metadata.items()
    }
    assert meta["chunks_table"].count("| True |") == 2  # both chunks reattached
    for name in names:
        assert len(cluster.jobs_named(name)) == 1, f"a twin of {name} was submitted"
        assert len((base / "slurm" / name / "jobids").read_text().split()) == 1
    assert _statuses(runs) == [S.ANNOTATIONS_IMPORTED] * 3 + [S.QC_FAILED]
