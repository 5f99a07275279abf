"""The ENA ingest assets, materialised in-process against the fake ENA and the real Postgres."""

from __future__ import annotations

import dagster as dg
import pytest
from django.test import Client

from emg_assets.ena import ingest
from emg_assets.ena.assets import INGEST_ASSETS, ena_read_runs
from emg_assets.ena.checks import FASTQ_MATCH_LAYOUT, RUN_SAMPLES_EXIST, STUDY_HAS_RUNS
from emg_assets.ena.client import ENAClient
from emg_django.analyses.choices import ExperimentType
from emg_django.analyses.models import Analysis, Assembly, Run, Sample, Study
from emg_django.ena import models as ena_models
from tests.factories import make_analysis
from tests.fakes.ena.datasets import (
    AMPLICON_STUDY,
    HOLOFOOD_SECONDARY,
    HOLOFOOD_STUDY,
    PRIVATE_OWNER_USERNAME,
    PRIVATE_STUDY,
)
from tests.fakes.ena.schema import Kind
from tests.fakes.ena.server import FakeENA

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = (ena_models.Study, ena_models.Sample, Study, Sample, Run, Assembly)


def _materialize(
    instance: dg.DagsterInstance,
    ena: ENAClient,
    key: str,
    run_config: dict | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        INGEST_ASSETS,
        partition_key=key,
        instance=instance,
        resources={"ena": ena},
        run_config=run_config,
        raise_on_error=raise_on_error,
    )


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    [event] = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == asset
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of the ingest tables (``fetched_at`` aside: it records each read of ENA)."""
    snapshot = {}
    for model in TABLES:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "fetched_at"]
        snapshot[model._meta.label] = sorted(model.objects.values_list(*fields))
    return snapshot


def test_ingest_holofood_then_the_api_serves_it(instance, ena, partitions) -> None:
    partitions(HOLOFOOD_STUDY)
    result = _materialize(instance, ena, HOLOFOOD_STUDY)

    study = Study.objects.get(ena_accessions__has_accession=HOLOFOOD_SECONDARY)
    assert study.accession == f"MGYS{study.pk:08d}"
    assert study.ena_accessions == [HOLOFOOD_STUDY, HOLOFOOD_SECONDARY]
    assert study.title == "HoloFood Salmon - Metagenomic DNA"
    assert set(study.samples.values_list("accession", flat=True)) == {
        "SAMEA7687881",
        "SAMEA7687882",
        "SAMEA7678309",
    }
    runs = {r.accession: r for r in study.runs.all()}
    assert set(runs) == {"ERR4918394", "ERR4918397", "ERR4918398"}
    run = runs["ERR4918394"]
    assert run.experiment_type == ExperimentType.METAGENOMIC
    assert run.instrument_model == "DNBSEQ-G400" and run.library_layout == "PAIRED"
    assert [f["url"].rsplit("/", 1)[-1] for f in run.fastq_files] == [
        "ERR4918394_1.fastq.gz",
        "ERR4918394_2.fastq.gz",
    ]
    assert all(len(f["md5"]) == 32 and f["size_bytes"] > 0 for f in run.fastq_files)
    assert run.sample.accession == "SAMEA7687881"
    # Primary assemblies only (the MAG is left out); the co-assembly links both runs.
    assert set(study.assemblies.values_list("accession", flat=True)) == {"ERZ2626953", "ERZ9000001"}
    co_assembly = Assembly.objects.get(accession="ERZ9000001")
    assert set(co_assembly.runs.values_list("accession", flat=True)) == {"ERR4918397", "ERR4918398"}
    assert (co_assembly.assembler_name, co_assembly.assembler_version) == ("metaSPAdes", "3.15.3")

    study_meta = _metadata(result, "ena_study")
    assert study_meta["mgys_accession"] == study.accession
    assert study_meta["study_inserted"] == 1 and study_meta["ena_requests"] >= 1
    assert _metadata(result, "ena_read_runs")["runs_inserted"] == 3
    assert "ERR4918394" in _metadata(result, "ena_read_runs")["preview"]
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {FASTQ_MATCH_LAYOUT: True, RUN_SAMPLES_EXIST: True, STUDY_HAS_RUNS: True}

    api = Client()
    assert (
        api.get(f"/api/v2/studies/insdc/{HOLOFOOD_SECONDARY}").json()["accession"]
        == study.accession
    )
    samples = api.get(f"/api/v2/studies/{study.accession}/samples/").json()
    assert samples["count"] == 3
    run_json = api.get("/api/v2/runs/ERR4918397").json()
    assert run_json["experiment_type"] == "METAG" and run_json["instrument_model"] == "DNBSEQ-G400"


def test_rematerialising_changes_nothing(instance, ena, partitions) -> None:
    partitions(HOLOFOOD_STUDY)
    _materialize(instance, ena, HOLOFOOD_STUDY)
    before = _snapshot()

    again = _materialize(instance, ena, HOLOFOOD_STUDY)

    assert _snapshot() == before
    for asset, kinds in {
        "ena_study": ("ena_study", "study"),
        "ena_samples": ("ena_samples", "samples"),
        "ena_read_runs": ("runs",),
        "ena_assemblies": ("assemblies",),
    }.items():
        meta = _metadata(again, asset)
        for kind in kinds:
            assert meta[f"{kind}_inserted"] == 0 and meta[f"{kind}_updated"] == 0, (asset, kind)
            assert meta[f"{kind}_unchanged"] > 0


def test_transient_faults_are_retried(instance, ena, partitions, fake_ena: FakeENA) -> None:
    partitions(HOLOFOOD_STUDY)
    fake_ena.fault("http_503", times=1, path="/search")
    fake_ena.fault("http_429", times=1, path="/search", retry_after=0.1)
    fake_ena.fault("truncated_json", times=1, path="/search")
    result = _materialize(instance, ena, HOLOFOOD_STUDY)
    assert result.success
    assert Run.objects.filter(study__ena_accessions__has_accession=HOLOFOOD_STUDY).count() == 3
    assert (
        _metadata(result, "ena_study")["ena_retries"]
        + _metadata(result, "ena_samples")["ena_retries"]
        >= 3
    )


def test_a_persistent_fault_fails_clearly_and_writes_nothing(
    instance, ena, partitions, fake_ena: FakeENA
) -> None:
    partitions(HOLOFOOD_STUDY)
    _materialize(instance, ena, HOLOFOOD_STUDY)
    # Every request fails past the retries: the tables must stay as they were.
    before = _snapshot()
    fake_ena.fault("http_500", times=100, path="/search")
    result = _materialize(instance, ena, HOLOFOOD_STUDY, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.to_string()
    assert "/search" in message and "500" in message
    assert _snapshot() == before


def test_a_failing_write_rolls_back_the_whole_asset(
    instance, ena, partitions, fake_ena: FakeENA
) -> None:
    partitions(HOLOFOOD_STUDY)
    _materialize(instance, ena, HOLOFOOD_STUDY)
    before = _snapshot()
    # A run whose accession is too long for its column fails inside the runs transaction.
    fake_ena.add_run({**fake_ena.record(Kind.RUN, "ERR4918394"), "run_accession": "ERR" + "4" * 40})
    result = _materialize(instance, ena, HOLOFOOD_STUDY, raise_on_error=False)
    assert not result.success
    assert _snapshot() == before


def test_private_study_is_private_everywhere(instance, ena, partitions) -> None:
    partitions(PRIVATE_STUDY)
    _materialize(
        instance,
        ena,
        PRIVATE_STUDY,
        run_config={"ops": {"ena_study": {"config": {"webin_owner": PRIVATE_OWNER_USERNAME}}}},
    )
    study = Study.objects.get(ena_accessions__has_accession=PRIVATE_STUDY)
    assert study.is_private and study.webin_submitter == PRIVATE_OWNER_USERNAME
    assert (
        Run.objects.filter(
            study=study, is_private=True, webin_submitter=PRIVATE_OWNER_USERNAME
        ).count()
        == 1
    )
    assert Client().get(f"/api/v2/studies/{study.accession}").status_code == 404


def test_run_config_policies_and_sample_limit(instance, ena, partitions) -> None:
    partitions(HOLOFOOD_STUDY)
    result = _materialize(
        instance,
        ena,
        HOLOFOOD_STUDY,
        run_config={
            "ops": {
                "ena_samples": {"config": {"sample_limit": 2}},
                "ena_read_runs": {
                    "config": {
                        "library_strategies": ["WGS"],
                        "experiment_type_overrides": {"WGS/METAGENOMIC": "UNKNO"},
                    }
                },
            }
        },
        raise_on_error=False,
    )
    study = Study.objects.get(ena_accessions__has_accession=HOLOFOOD_STUDY)
    assert study.samples.count() == 2
    # The run whose sample was not mirrored is skipped, and the check says so.
    assert study.runs.count() == 2
    assert set(study.runs.values_list("experiment_type", flat=True)) == {ExperimentType.UNKNOWN}
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks[RUN_SAMPLES_EXIST] is False and checks[FASTQ_MATCH_LAYOUT] is True


def test_bad_policy_fails_with_a_message(instance, ena, partitions) -> None:
    partitions(AMPLICON_STUDY)
    result = dg.materialize(
        INGEST_ASSETS,
        partition_key=AMPLICON_STUDY,
        instance=instance,
        resources={"ena": ena},
        raise_on_error=False,
        run_config={
            "ops": {"ena_read_runs": {"config": {"experiment_type_overrides": {"WGS": "METAG"}}}}
        },
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "experiment_type_overrides" in failure.step_failure_data.error.to_string()


def test_amplicon_study_runs_are_typed_amplicon(instance, ena, partitions) -> None:
    partitions(AMPLICON_STUDY)
    _materialize(instance, ena, AMPLICON_STUDY)
    assert set(Run.objects.values_list("experiment_type", "library_layout")) == {
        (ExperimentType.AMPLICON, "SINGLE")
    }


def test_unknown_study_and_duplicate_partitions_fail_clearly(instance, ena, partitions) -> None:
    partitions("PRJEB1", HOLOFOOD_STUDY, HOLOFOOD_SECONDARY)
    unknown = _materialize(instance, ena, "PRJEB1", raise_on_error=False)
    assert not unknown.success
    assert (
        "ENA has no study PRJEB1"
        in next(
            e for e in unknown.all_events if e.is_step_failure
        ).step_failure_data.error.to_string()
    )
    twin = _materialize(instance, ena, HOLOFOOD_SECONDARY, raise_on_error=False)
    assert not twin.success
    message = next(
        e for e in twin.all_events if e.is_step_failure
    ).step_failure_data.error.to_string()
    assert f"materialise {HOLOFOOD_STUDY} instead" in message
    assert not Study.objects.exists()


def test_a_study_ena_no_longer_serves_is_suppressed(
    instance, ena, partitions, fake_ena: FakeENA
) -> None:
    partitions(HOLOFOOD_STUDY)
    _materialize(instance, ena, HOLOFOOD_STUDY)
    fake_ena.set_private(HOLOFOOD_STUDY, "Webin-someone-else")
    no_datahub = ENAClient(portal_api_url=fake_ena.portal_api_url, backoff_base_seconds=0.01)
    dg.materialize(
        [INGEST_ASSETS[0]],
        partition_key=HOLOFOOD_STUDY,
        instance=instance,
        resources={"ena": no_datahub},
    )
    assert Study.objects.get().is_suppressed
    assert not Run.objects.public().exists()


def test_fastq_check_fails_on_a_paired_run_with_one_file(
    instance, ena, partitions, fake_ena: FakeENA
) -> None:
    record = fake_ena.record(Kind.RUN, "ERR4918398")
    fake_ena.add_run(
        {
            **record,
            "fastq_ftp": record["fastq_ftp"].split(";")[0],
            "fastq_md5": record["fastq_md5"].split(";")[0],
            "fastq_bytes": record["fastq_bytes"].split(";")[0],
        }
    )
    partitions(HOLOFOOD_STUDY)
    result = _materialize(instance, ena, HOLOFOOD_STUDY)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks[FASTQ_MATCH_LAYOUT].passed is False
    assert "ERR4918398" in checks[FASTQ_MATCH_LAYOUT].metadata["failures"].value
    assert ena_read_runs.check_specs


def _content() -> dict[str, list[tuple]]:
    """The ingest tables without ids and times (which a re-ingest changes), links by accession."""
    content = {}
    for model in TABLES:
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if not (f.primary_key or f.attname.endswith(("_at", "_id")))
        ]
        content[model._meta.label] = sorted(map(repr, model.objects.values_list(*fields)))
    content["links"] = sorted(
        Run.objects.values_list("accession", "sample__accession", "study__ena_study__accession")
    )
    return content


def test_written_a_chunk_at_a_time_the_result_is_the_same(
    instance, ena, partitions, monkeypatch
) -> None:
    """Samples and runs stream from the spooled answer and are written a few at a time (here 2;
    5,000 in production): the same rows, counts and preview as in one go."""
    partitions(HOLOFOOD_STUDY)
    whole = _materialize(instance, ena, HOLOFOOD_STUDY)
    written = _content()
    for model in reversed(TABLES):  # children first
        model.objects.all().delete()

    monkeypatch.setattr(ingest, "WRITE_CHUNK", 2)
    chunked = _materialize(instance, ena, HOLOFOOD_STUDY)

    assert _content() == written
    assert Run.objects.count() > 2 and Sample.objects.count() > 2  # several chunks
    counted = ("_inserted", "_updated", "_unchanged", "skipped", "problems", "ena_rows")
    for asset in ("ena_samples", "ena_read_runs"):
        before, after = _metadata(whole, asset), _metadata(chunked, asset)
        counts = {k: v for k, v in after.items() if k.endswith(counted)}
        assert counts and counts == {k: before[k] for k in counts}, asset
        # The preview shows the first rows (in ENA's order, which varies) and notes the rest.
        assert str(after["preview"]).count("| SAMEA") == str(before["preview"]).count("| SAMEA")


def test_an_analysis_follows_its_run_to_another_sample(instance, ena, partitions) -> None:
    """ENA moved a run to another sample: after the re-ingest its analyses are of that sample
    (the API shows an analysis's run with the analysis's sample)."""
    partitions(HOLOFOOD_STUDY)
    _materialize(instance, ena, HOLOFOOD_STUDY)
    run = Run.objects.select_related("sample", "study").first()
    analysis = make_analysis(run.study, run=run)
    elsewhere = Sample.objects.exclude(pk=run.sample_id).first()
    Analysis.objects.filter(pk=analysis.pk).update(sample=elsewhere)  # as before ENA's move

    _materialize(instance, ena, HOLOFOOD_STUDY)

    analysis.refresh_from_db()
    assert analysis.sample_id == run.sample_id
    served = Client().get(f"/api/v2/analyses/{analysis.accession}").json()
    assert (
        served["run"]["sample_accession"] == served["sample"]["accession"] == run.sample.accession
    )
