"""ENA faults during an ingest that ``tests/emg_assets/ena/test_assets.py`` does not cover.

Covered there: 503/429/truncated JSON retried; a persistent 500 failing clearly with nothing
written; a failing write rolled back. Here: an answer slower than the client's time-out (once:
retried; always: a clear failure, nothing written), a spurious ``204 No Content`` in the middle
of an ingest, and a fault in a *later* asset of the chain leaving the earlier assets' writes
committed and consistent, then a retry completing the chain.
"""

from __future__ import annotations

import dagster as dg
import pytest
from django.test import Client

from emg_assets.ena.assets import INGEST_ASSETS
from emg_assets.ena.checks import STUDY_HAS_RUNS
from emg_assets.ena.client import ENAClient
from emg_django.analyses.models import Assembly, Run, Sample, Study
from emg_django.ena import models as ena_models
from tests.fakes.ena.datasets import DATAHUB_PASSWORD, DATAHUB_USERNAME, HOLOFOOD_STUDY
from tests.fakes.ena.server import FakeENA, FaultMode
from tests.faults.enafaults import fault_when

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = (ena_models.Study, ena_models.Sample, Study, Sample, Run, Assembly)
#: What a clean ingest of the HoloFood study writes (tests/fakes/ena/datasets.py).
HOLOFOOD_COUNTS = {
    "ena.Study": 1,
    "ena.Sample": 3,
    "analyses.Study": 1,
    "analyses.Sample": 3,
    "analyses.Run": 3,
    "analyses.Assembly": 2,
}


def _client(fake: FakeENA, **overrides: object) -> ENAClient:
    settings: dict[str, object] = {
        "portal_api_url": fake.portal_api_url,
        "datahub_username": DATAHUB_USERNAME,
        "datahub_password": DATAHUB_PASSWORD,
        "max_retries": 3,
        "backoff_base_seconds": 0.01,
        "backoff_cap_seconds": 0.05,
        "timeout_seconds": 2,
        "max_requests_per_second": 50,
    }
    settings.update(overrides)
    return ENAClient(**settings)  # type: ignore[arg-type]


def _ingest(
    instance: dg.DagsterInstance, ena: ENAClient, key: str = HOLOFOOD_STUDY
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        INGEST_ASSETS,
        partition_key=key,
        instance=instance,
        resources={"ena": ena},
        raise_on_error=False,
    )


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of the ingest tables (``fetched_at`` aside: it records each read of ENA)."""
    snapshot = {}
    for model in TABLES:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "fetched_at"]
        snapshot[model._meta.label] = sorted(model.objects.values_list(*fields))
    return snapshot


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in TABLES}


def _step_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    outcomes = {}
    for event in result.all_events:
        if event.is_step_success:
            outcomes[event.step_key] = "success"
        elif event.is_step_failure:
            outcomes[event.step_key] = "failure"
        elif event.is_step_skipped:
            outcomes[event.step_key] = "skipped"
    return outcomes


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    failure = next(e for e in result.all_events if e.is_step_failure)
    return failure.step_failure_data.error.to_string()


# -- slow answers -----------------------------------------------------------------------------


def test_one_answer_slower_than_the_timeout_is_retried(
    instance, partitions, fake_ena: FakeENA
) -> None:
    partitions(HOLOFOOD_STUDY)
    ena = _client(fake_ena, timeout_seconds=0.5)
    # The first search (the study, first asset) answers after 1.5 s: past the time-out.
    fake_ena.fault("slow", times=1, path="/search", delay=1.5)
    result = _ingest(instance, ena)
    assert result.success
    assert _counts() == HOLOFOOD_COUNTS
    meta = {
        k: v.value
        for e in result.get_asset_materialization_events()
        for k, v in e.materialization.metadata.items()
        if e.asset_key.to_user_string() == "ena_study"
    }
    assert meta["ena_retries"] == 1 and meta["ena_failures"] == 0


def test_answers_always_slower_than_the_timeout_fail_clearly_and_write_nothing(
    instance, partitions, fake_ena: FakeENA
) -> None:
    partitions(HOLOFOOD_STUDY)
    assert _ingest(instance, _client(fake_ena)).success
    before = _snapshot()
    impatient = _client(fake_ena, timeout_seconds=0.3, max_retries=1)
    fake_ena.fault("slow", times=100, path="/search", delay=1.0)
    result = _ingest(instance, impatient)
    assert not result.success
    message = _failure_message(result)
    assert "failed after 2 attempt(s)" in message and "timed out after 0.3s" in message, message
    assert "/search" in message
    # The first asset failed: the others did not run, and nothing was written.
    assert _step_outcomes(result) == {"ena_study": "failure"}
    assert _snapshot() == before


# -- 204 No Content in the middle of an ingest --------------------------------------------------


def test_a_spurious_204_does_not_make_a_public_study_private(
    instance, partitions, fake_ena: FakeENA
) -> None:
    """ENA answers "no rows" with 204 (older servers). One 204 to the anonymous study search
    made a known public study look private (found only with the data-hub account): the study
    and all its runs vanished from the public API until the next ingest."""
    partitions(HOLOFOOD_STUDY)
    ena = _client(fake_ena)
    assert _ingest(instance, ena).success
    before = _snapshot()
    fake_ena.fault("no_content_204", times=1, path="/search")
    result = _ingest(instance, ena)
    assert result.success
    study = Study.objects.get()
    assert not study.is_private
    assert Run.objects.filter(is_private=False).count() == 3
    assert _snapshot() == before
    assert Client().get(f"/api/v2/studies/{study.accession}").status_code == 200


def test_a_204_for_the_runs_writes_nothing_wrong_and_the_retry_completes(
    instance, partitions, fake_ena: FakeENA, monkeypatch: pytest.MonkeyPatch
) -> None:
    partitions(HOLOFOOD_STUDY)
    ena = _client(fake_ena)
    # 204 to both portals' read_run searches: the study has no runs, as far as ENA said.
    fault_when(
        fake_ena,
        monkeypatch,
        lambda p: p.get("result") == "read_run",
        FaultMode.NO_CONTENT_204,
        times=2,
    )
    first = _ingest(instance, ena)
    assert first.success
    checks = {c.check_name: c.passed for c in first.get_asset_check_evaluations()}
    assert checks[STUDY_HAS_RUNS] is False  # the curator sees it
    assert Run.objects.count() == 0
    # Runs missing, so the co-assembly's run links are missing too: reported, not invented.
    assert not Assembly.runs.through.objects.exists()
    assert Sample.objects.count() == 3
    # The retry (ENA healthy again) completes the study.
    again = _ingest(instance, ena)
    assert again.success
    assert _counts() == HOLOFOOD_COUNTS
    assert Assembly.runs.through.objects.count() == 3
    # And a 204 on a later ingest removes nothing that was mirrored.
    before = _snapshot()
    fault_when(
        fake_ena,
        monkeypatch,
        lambda p: p.get("result") in ("read_run", "sample"),
        FaultMode.NO_CONTENT_204,
        times=4,
    )
    assert _ingest(instance, ena).success
    assert _snapshot() == before


# -- a fault in a later asset -------------------------------------------------------------------


def test_a_fault_in_a_later_asset_keeps_the_earlier_writes_consistent(
    instance, partitions, fake_ena: FakeENA, monkeypatch: pytest.MonkeyPatch
) -> None:
    partitions(HOLOFOOD_STUDY)
    ena = _client(fake_ena, max_retries=1)
    # The assemblies search (the fourth asset) fails past the retries.
    fault_when(
        fake_ena,
        monkeypatch,
        lambda p: p.get("result") == "analysis",
        FaultMode.HTTP_500,
        times=100,
    )
    result = _ingest(instance, ena)
    assert not result.success
    assert _step_outcomes(result) == {
        "ena_study": "success",
        "ena_samples": "success",
        "ena_read_runs": "success",
        "ena_assemblies": "failure",
    }
    message = _failure_message(result)
    assert "result=analysis" in message and "500" in message, message
    # The earlier assets' writes are committed and whole; no assembly half-written.
    study = Study.objects.get()
    assert study.samples.count() == 3 and study.runs.count() == 3
    assert all(run.sample.studies.filter(pk=study.pk).exists() for run in study.runs.all())
    assert not Assembly.objects.exists() and not Assembly.runs.through.objects.exists()
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"ena_study", "ena_samples", "ena_read_runs"}
    # ENA recovers: the retry completes the chain, the earlier rows unchanged.
    monkeypatch.undo()
    earlier = {k: v for k, v in _snapshot().items() if "Assembly" not in k}
    again = _ingest(instance, ena)
    assert again.success
    assert _counts() == HOLOFOOD_COUNTS
    assert {k: v for k, v in _snapshot().items() if "Assembly" not in k} == earlier
    assert Assembly.runs.through.objects.count() == 3
