"""Bulk upserts: one statement per batch, idempotent, all-or-nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DataError, connection, models, transaction
from django.test.utils import CaptureQueriesContext

from emg_django.analyses.models import Run
from emg_django.analyses.models import Sample as MGnifySample
from emg_django.core import bulk
from emg_django.core.bulk import UpsertResult, bulk_link, bulk_upsert, ids_by_key
from emg_django.ena.models import Sample, Study
from tests.factories import make_sample, make_study

pytestmark = pytest.mark.django_db


def _studies(n: int, title: str = "Study") -> list[dict[str, object]]:
    return [
        {
            "accession": f"PRJEB{10_000 + i}",
            "additional_accessions": [f"ERP{20_000 + i}"],
            "title": f"{title} {i}",
            "metadata": {"center_name": "EMBL-EBI", "i": i},
        }
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
    samples = [
        {"accession": f"SAMEA{i}", "study_id": ids["PRJEB10000"], "title": ""} for i in range(3)
    ]
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


# -- the Postgres path (one jsonb parameter per batch) --------------------------------------------

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="Postgres' jsonb path")

#: Values the jsonb parameter must carry exactly as a VALUES list would.
AWKWARD_ROWS: list[dict[str, object]] = [
    {
        "title": "Zürich 日本語 🧬 \"quoted\" back\\slash\nnew line\ttab %s %(x)s ' O'Brien",
        "additional_accessions": ["ERP1", "ÉRP2"],
        "metadata": {
            "nested": {
                "list": [1, 2.5, -3, 10**20, True, False, None, "ü"],
                "empty": {},
                "none": None,
            },
            "deep": [[[{"a": [{"b": "c"}]}]]],
            "float": 0.1,
            "big": 2**63,
            "unicode key ß": "✓",
            "": "empty key",
        },
        "is_private": True,
        "is_suppressed": False,
        "webin_submitter": "Webin-1",
        "fetched_at": dt.datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=dt.UTC),
    },
    {
        "title": "",
        "additional_accessions": [],
        "metadata": [],
        "is_private": False,
        "is_suppressed": True,
        "webin_submitter": None,
        "fetched_at": None,
    },
    {
        "title": "offset",
        "additional_accessions": ["ERP3"],
        "metadata": "a JSON string",
        "is_private": False,
        "is_suppressed": False,
        "webin_submitter": "",
        "fetched_at": dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=5.5))),
    },
]
COMPARED = [
    "title",
    "additional_accessions",
    "metadata",
    "is_private",
    "is_suppressed",
    "webin_submitter",
    "fetched_at",
]


def _stored(prefix: str) -> list[dict[str, object]]:
    stored = Study.objects.filter(accession__startswith=prefix).order_by("accession")
    return list(stored.values(*COMPARED))


@postgres_only
def test_jsonb_path_stores_what_the_values_path_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [{"accession": f"PRJEBF{i}", **row} for i, row in enumerate(AWKWARD_ROWS)]
    assert bulk_upsert(Study, fast, unique_field="accession") == UpsertResult(inserted=3)
    with monkeypatch.context() as patch:
        patch.setattr(bulk, "_travels_as_json", lambda field: False)  # the VALUES path (SQLite's)
        slow = [{"accession": f"PRJEBV{i}", **row} for i, row in enumerate(AWKWARD_ROWS)]
        assert bulk_upsert(Study, slow, unique_field="accession") == UpsertResult(inserted=3)

    assert _stored("PRJEBF") == _stored("PRJEBV")
    assert _stored("PRJEBF") == [{c: row[c] for c in COMPARED} for row in AWKWARD_ROWS]
    # Python None is SQL NULL (not JSON null), on both paths.
    nulls = Study.objects.filter(fetched_at__isnull=True, webin_submitter__isnull=True)
    assert set(nulls.values_list("accession", flat=True)) == {"PRJEBF1", "PRJEBV1"}
    # Writing them again through the jsonb path finds nothing changed: values compare equal in SQL.
    assert bulk_upsert(Study, fast + slow, unique_field="accession") == UpsertResult(unchanged=6)


@postgres_only
def test_jsonb_path_is_one_statement_per_batch_and_no_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "MAX_BATCH_ROWS", 100)
    with CaptureQueriesContext(connection) as queries:
        bulk_upsert(Study, _studies(250), unique_field="accession")
    sqls = [q["sql"] for q in queries.captured_queries]
    statements = [sql for sql in sqls if sql.startswith("INSERT")]
    assert len(statements) == 3
    assert all("jsonb_populate_recordset" in sql for sql in statements)
    assert not [sql for sql in sqls if sql.startswith("SELECT")]


@postgres_only
def test_insert_and_update_counts_for_keys_written_earlier_in_the_same_transaction() -> None:
    # The jsonb path tells inserts from updates by xmax; rows inserted, updated or locked earlier
    # in the same transaction (and savepoints) must still count as updates.
    with transaction.atomic():
        assert bulk_upsert(Study, _studies(4), unique_field="accession") == UpsertResult(inserted=4)
        rows = _studies(6, title="Second")
        rows[0]["title"], rows[1]["title"] = "Study 0", "Changed 1"  # row 0 stays, row 1 changes
        rows[2:4] = _studies(4)[2:4]
        expected = UpsertResult(inserted=2, updated=1, unchanged=3)
        assert bulk_upsert(Study, rows, unique_field="accession") == expected
        Study.objects.filter(accession="PRJEB10002").update(title="Updated by the ORM")
        list(Study.objects.select_for_update().filter(accession="PRJEB10003"))
        rows[1]["title"] = "Changed again"
        rows[3]["title"] = "Changed while locked"
        expected = UpsertResult(updated=3, unchanged=3)
        assert bulk_upsert(Study, rows, unique_field="accession") == expected
        with transaction.atomic():  # a savepoint
            rows[4]["title"] = "In a savepoint"
            rows.append(_studies(7)[6])
            expected = UpsertResult(inserted=1, updated=1, unchanged=5)
            assert bulk_upsert(Study, rows, unique_field="accession") == expected
            assert bulk_upsert(Study, rows, unique_field="accession") == UpsertResult(unchanged=7)
    assert Study.objects.get(accession="PRJEB10002").title == "Study 2"
    assert Study.objects.get(accession="PRJEB10004").title == "In a savepoint"


def test_json_fields_are_normalised_and_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    study = make_study(accession="PRJEB1")
    sample = make_sample(study, accession="SAMEA1")
    md5 = "0" * 32

    def runs(*fastq: dict[str, object]) -> list[dict[str, object]]:
        return [
            {
                "accession": f"ERR{i}",
                "study_id": study.pk,
                "sample_id": sample.pk,
                "fastq_files": [f],
            }
            for i, f in enumerate(fastq)
        ]

    bulk_upsert(
        Run,
        runs(
            {"url": "ftp/a.fastq.gz", "md5": None, "size_bytes": 10},
            {"url": "ftp/b.fastq.gz", "md5": md5},
        ),
        unique_field="accession",
    )
    # exclude_none: the normal form leaves out unset values, whichever path wrote it.
    assert dict(Run.objects.values_list("accession", "fastq_files")) == {
        "ERR0": [{"url": "ftp/a.fastq.gz", "size_bytes": 10}],
        "ERR1": [{"url": "ftp/b.fastq.gz", "md5": md5}],
    }
    monkeypatch.setattr(bulk, "MAX_BATCH_ROWS", 1)  # the bad value is in the 2nd batch
    with pytest.raises(ValidationError, match="fastq_files"):
        bad = runs({"url": "ftp/c.fastq.gz"}, {"url": "ftp/d.fastq.gz", "md5": "not an md5"})
        bulk_upsert(Run, bad, unique_field="accession")
    assert set(Run.objects.values_list("accession", flat=True)) == {"ERR0", "ERR1"}
    assert Run.objects.get(accession="ERR0").fastq_files == [
        {"url": "ftp/a.fastq.gz", "size_bytes": 10}
    ]


def test_only_fields_that_survive_json_take_the_jsonb_path() -> None:
    assert all(bulk._travels_as_json(field) for field in Run._meta.concrete_fields)
    assert all(bulk._travels_as_json(field) for field in Study._meta.concrete_fields)
    assert not bulk._travels_as_json(models.FloatField())  # NaN and inf are not JSON
    assert not bulk._travels_as_json(models.JSONField(encoder=DjangoJSONEncoder))


def test_bulk_link_is_idempotent_and_counts_requested_links() -> None:
    studies = [make_study(accession=f"PRJEB{i}") for i in range(3)]
    sample = make_sample(studies[0], accession="SAMEA1")  # linked to studies[0] already
    through = MGnifySample.studies.through
    pairs = [(sample.pk, s.pk) for s in studies] * 2  # duplicates are requested once
    with CaptureQueriesContext(connection) as queries:
        assert bulk_link(through, pairs, fields=("sample_id", "study_id")) == 3
    assert len(queries.captured_queries) == 1
    first = dict(through.objects.values_list("study_id", "pk"))
    assert bulk_link(through, pairs, fields=("sample_id", "study_id")) == 3
    assert dict(through.objects.values_list("study_id", "pk")) == first  # links kept, not re-made
    assert set(sample.studies.values_list("pk", flat=True)) == {s.pk for s in studies}
    with CaptureQueriesContext(connection) as queries:
        assert bulk_link(through, [], fields=("sample_id", "study_id")) == 0
    assert not queries.captured_queries
