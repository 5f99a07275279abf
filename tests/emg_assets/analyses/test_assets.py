"""The analysis assets on the real Postgres, the fake ENA and the embedded (no-Slurm) transport."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from django.test import Client

from emg_assets.analyses.assets import (
    ANALYSIS_ASSETS,
    amplicon_analyses,
    assembly_analyses,
    study_summary,
)
from emg_assets.analyses.checks import ALL_TERMINAL, HAVE_DOWNLOADS
from emg_assets.ena.assets import INGEST_ASSETS
from emg_django.analyses.choices import AnalysisStatus
from emg_django.analyses.models import Analysis, Study
from slurm_resource import SlurmResource
from tests.emg_assets.analyses.conftest import pipelines_resource
from tests.fakes.ena.datasets import HOLOFOOD_STUDY, generate_study

pytestmark = pytest.mark.django_db(transaction=True)

S = AnalysisStatus
BIOME = "root:Environmental:Aquatic:Marine"
API = "/api/v2"


def _slurm(base: Path) -> SlurmResource:
    return SlurmResource(
        transport="embedded", work_dir=str(base / "slurm"), poll_interval_seconds=0.2
    )


def _materialize(instance, resources, key: str, assets, run_config=None, raise_on_error=True):
    return dg.materialize(
        [*INGEST_ASSETS, *ANALYSIS_ASSETS],
        selection=assets,
        partition_key=key,
        instance=instance,
        resources=resources,
        run_config=run_config,
        raise_on_error=raise_on_error,
    )


def _config(asset: str, **values) -> dict:
    return {"ops": {asset: {"config": values}}}


def _meta(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == asset
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_amplicon_study_is_analysed_imported_published_and_served(
    instance, ena, fake_ena, partitions, results_base
) -> None:
    study = generate_study(
        fake_ena,
        None,
        n_samples=5,
        n_runs=5,
        library_strategy="AMPLICON",
        library_source="METAGENOMIC",
        seed=3,
    )
    runs = sorted(study.run_accessions)
    # chunk size 2 -> chunks [0,1] [2,3] [4]; the third chunk's job fails.
    env = {
        "NEXTFLOW_STANDIN_QC_FAIL": runs[1],
        "NEXTFLOW_STANDIN_NO_OUTPUT": runs[2],
        "NEXTFLOW_STANDIN_MALFORMED": runs[3],
        "NEXTFLOW_STANDIN_FAIL_SAMPLE": runs[4],
    }
    pipelines = pipelines_resource(results_base, env=env)
    resources = {"ena": ena, "slurm": _slurm(results_base), "pipelines": pipelines}
    partitions(study.accession)
    _materialize(instance, resources, study.accession, list(INGEST_ASSETS))

    no_biome = _materialize(
        instance, resources, study.accession, [amplicon_analyses], raise_on_error=False
    )
    assert not no_biome.success
    assert "has no biome" in str(no_biome.get_step_failure_events()[0].event_specific_data.error)
    assert not Analysis.objects.exists()

    result = _materialize(
        instance,
        resources,
        study.accession,
        [amplicon_analyses],
        _config("amplicon_analyses", biome=BIOME),
    )
    meta = _meta(result, "amplicon_analyses")
    assert (
        meta["analyses_attempted"],
        meta["analyses_completed"],
        meta["analyses_qc_failed"],
        meta["analyses_failed"],
        meta["chunks"],
    ) == (5, 1, 1, 3, 3)
    assert len(meta["slurm_job_ids"].split(",")) == 4  # three chunks and the datamover
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {ALL_TERMINAL: True, HAVE_DOWNLOADS: True}

    by_run = {a.run.accession: a for a in Analysis.objects.with_annotations().select_related("run")}
    assert [by_run[r].status for r in runs] == [
        S.ANNOTATIONS_IMPORTED,
        S.QC_FAILED,
        S.FAILED,
        S.FAILED,
        S.FAILED,
    ]
    assert by_run[runs[1]].status_reason == "libstrat_fail"
    assert (
        "missing from the pipeline's passed and QC-failed reports" in by_run[runs[2]].status_reason
    )
    assert "count 'twelve' is not a non-negative integer" in by_run[runs[3]].status_reason
    assert "taxonomy-summary/SILVA-SSU/" in by_run[runs[3]].status_reason
    assert "Slurm job" in by_run[runs[4]].status_reason
    assert "ERROR ~ Error executing process" in by_run[runs[4]].status_reason

    done = by_run[runs[0]]
    assert Study.objects.get().biome.lineage == BIOME
    assert done.results_dir.endswith(f"/V6/amplicon/{runs[0]}") and not done.results_dir.startswith(
        "/"
    )
    published = Path(pipelines.public_dir) / done.results_dir
    assert (published / "taxonomy-summary" / "SILVA-SSU" / f"{runs[0]}_SILVA-SSU.tsv").is_file()
    assert done.quality_control["fastp"]["after_filtering"]["total_reads"] > 0
    assert len(done.annotations["taxonomies__ssu"]) == 5

    client = Client()
    detail = client.get(f"{API}/analyses/{done.accession}").json()
    assert detail["experiment_type"] in ("AMPLI", "amplicon")
    urls = {d["alias"]: d["url"] for d in detail["downloads"]}
    assert urls[f"{runs[0]}_SILVA-SSU.tsv"].endswith(
        f"{done.results_dir}/taxonomy-summary/SILVA-SSU/{runs[0]}_SILVA-SSU.tsv"
    )
    table = client.get(f"{API}/analyses/{done.accession}/annotations/taxonomies__ssu").json()
    assert table["count"] == 5 and table["items"][0]["organism"].startswith("sk__Bacteria")

    summary = _materialize(instance, resources, study.accession, [study_summary])
    assert _meta(summary, "study_summary")["summary_files"] == 4
    mgys = Study.objects.get()
    assert mgys.metadata["features"]["has_v6_analyses"] is True
    ssu = next(
        d for d in mgys.downloads if d["alias"].endswith("_amplicon_SILVA-SSU_study_summary.tsv")
    )
    summary_file = Path(pipelines.public_dir) / mgys.results_dir / ssu["path"]
    assert summary_file.read_text().startswith(f"taxonomy\t{runs[0]}\n")

    # Again, with the failures fixed: only the failed analyses run; the imported one is kept.
    fixed = pipelines_resource(results_base, env={"NEXTFLOW_STANDIN_QC_FAIL": runs[1]})
    again = _materialize(
        instance, {**resources, "pipelines": fixed}, study.accession, [amplicon_analyses]
    )
    meta = _meta(again, "amplicon_analyses")
    assert (meta["analyses_attempted"], meta["analyses_completed"]) == (3, 3)
    statuses = dict(Analysis.objects.values_list("run__accession", "status"))
    assert [statuses[r] for r in runs] == [S.ANNOTATIONS_IMPORTED, S.QC_FAILED] + [
        S.ANNOTATIONS_IMPORTED
    ] * 3
    assert Analysis.objects.count() == 5


def test_assembly_analyses_of_holofood(instance, ena, partitions, results_base) -> None:
    pipelines = pipelines_resource(results_base)
    resources = {"ena": ena, "slurm": _slurm(results_base), "pipelines": pipelines}
    partitions(HOLOFOOD_STUDY)
    _materialize(instance, resources, HOLOFOOD_STUDY, list(INGEST_ASSETS))
    result = _materialize(
        instance,
        resources,
        HOLOFOOD_STUDY,
        [assembly_analyses],
        _config("assembly_analyses", biome="root:Host-associated:Fish"),
    )
    meta = _meta(result, "assembly_analyses")
    assert (meta["analyses_attempted"], meta["analyses_completed"]) == (2, 2)
    analysis = Analysis.objects.with_annotations().get(assembly__accession="ERZ2626953")
    assert analysis.experiment_type == "ASSEM" and analysis.status == S.ANNOTATIONS_IMPORTED
    assert analysis.annotations["pfams"][0]["accession"].startswith("PF")
    assert analysis.quality_control["quast"]["N50"] == 1520
