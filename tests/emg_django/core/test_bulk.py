"""Bulk upserts: one statement per batch, idempotent, all-or-nothing."""

from __future__ import annotations

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext

from emg_django.core import bulk
from emg_django.core.bulk import UpsertResult, bulk_link, bulk_upsert, ids_by_key
from emg_django.ena.models import Sample, Study
from tests.factories import make_sample, make_study

pytestmark = pytest.mark.django_db


def _studies(n: int, title: str = "Study") -> list[dict[str, object]]:
    return [
        {"accession": f"PRJEB{10_000 + i}", "additional_accessions": [f"ERP{20_000 + i}"],
         "title": f"{title} {i}", "metadata": {"center_name": "EMBL-EBI", "i": i}}
        for i in range(n)
    ]


def test_insert_then_same_batch_again_changes_nothing() -> None:
    rows = _studies(50)
    assert bulk_upsert(Study, rows, unique_field="accession") == UpsertResult(inserted=50)
    before = dict(Study.objects.values_list("accession", "updated_at"))

    again = bulk_upsert(Study, rows, unique_field="accession")

    assert again == UpsertResult(unchanged=50)
    assert dict(Study.objects.values_list("accession", "updated_at")) == before


def test_changed_rows_are_updated_and_counted() -> None:
    bulk_upsert(Study, _studies(10), unique_field="accession")
    rows = _studies(12)
    rows[3]["title"] = "A new title"
    rows[4]["metadata"] = {"center_name": "JGI"}

    result = bulk_upsert(Study, rows, unique_field="accession")

    assert result == UpsertResult(inserted=2, updated=2, unchanged=8)
    assert Study.objects.get(accession="PRJEB10003").title == "A new title"
    assert Study.objects.get(accession="PRJEB10004").metadata == {"center_name": "JGI"}
    assert Study.objects.count() == 12


def test_update_fields_limits_what_an_update_may_change() -> None:
    bulk_upsert(Study, _studies(1), unique_field="accession")
    rows = _studies(1, title="Renamed")
    rows[0]["metadata"] = {"changed": True}
    bulk_upsert(Study, rows, unique_field="accession", update_fields=["metadata"])
    study = Study.objects.get()
    assert study.title == "Study 0"
    assert study.metadata == {"changed": True}


def test_one_statement_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "MAX_BATCH_ROWS", 100)
    with CaptureQueriesContext(connection) as queries:
        bulk_upsert(Study, _studies(250), unique_field="accession")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 3


@pytest.mark.django_db(transaction=True)
def test_a_failing_batch_leaves_the_database_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    bulk_upsert(Study, _studies(5), unique_field="accession")
    before = list(Study.objects.order_by("accession").values())
    monkeypatch.setattr(bulk, "MAX_BATCH_ROWS", 4)
    rows = _studies(10, title="Rewritten")
    rows[-1]["accession"] = "PRJEB" + "9" * 40  # longer than the column: fails in the 3rd batch

    with pytest.raises(DataError):
        bulk_upsert(Study, rows, unique_field="accession")

    assert list(Study.objects.order_by("accession").values()) == before


def test_bad_rows_are_refused_before_writing() -> None:
    with pytest.raises(ValueError, match="duplicate accession"):
        bulk_upsert(Study, _studies(2) + _studies(1), unique_field="accession")
    rows = _studies(2)
    del rows[1]["metadata"]
    with pytest.raises(ValueError, match="same fields"):
        bulk_upsert(Study, rows, unique_field="accession")
    with pytest.raises(ValueError, match="no fields"):
        bulk_upsert(Study, [{"accession": "PRJEB1", "colour": "red"}], unique_field="accession")
    assert not Study.objects.exists()


def test_ids_by_key_and_links() -> None:
    bulk_upsert(Study, _studies(3), unique_field="accession")
    ids = ids_by_key(Study, "accession", ["PRJEB10000", "PRJEB10002", "PRJEB404"])
    assert set(ids) == {"PRJEB10000", "PRJEB10002"}
    samples = [{"accession": f"SAMEA{i}", "study_id": ids["PRJEB10000"], "title": ""} for i in range(3)]
    assert bulk_upsert(Sample, samples, unique_field="accession").inserted == 3
    assert Sample.objects.filter(study__accession="PRJEB10000").count() == 3


def test_bulk_link_adds_missing_links_only() -> None:
    study = make_study(accession="PRJEB1")
    other = make_study(accession="PRJEB2")
    sample = make_sample(study, accession="SAMEA1")
    through = sample.studies.through
    pairs = [(sample.pk, other.pk), (sample.pk, study.pk)]
    bulk_link(through, pairs, fields=("sample_id", "study_id"))
    bulk_link(through, pairs, fields=("sample_id", "study_id"))
    assert set(sample.studies.values_list("pk", flat=True)) == {study.pk, other.pk}
    assert through.objects.count() == 2
