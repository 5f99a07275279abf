"""The large-table paths of pagination, exercised on small tables by lowering their thresholds:
deep pages seek from anchors and must return exactly what OFFSET returns; large counts are
estimates (flagged as such by being above the exact limit) and never run a full COUNT."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from emg_django.analyses.choices import ExperimentType
from emg_django.api import pagination
from tests.factories import make_run, make_sample, make_study

pytestmark = pytest.mark.django_db

RUNS = 40


@pytest.fixture
def runs() -> list[str]:
    study = make_study(accession="PRJEB7001")
    hidden = make_study(accession="PRJEB7002", private=True)
    sample = make_sample(study, accession="SAMEA7001")
    hidden_sample = make_sample(hidden, accession="SAMEA7002")
    accessions = []
    for i in range(RUNS):
        kind = ExperimentType.AMPLICON if i % 3 else ExperimentType.METAGENOMIC
        accessions.append(
            make_run(
                study, sample, accession=f"ERR{9_000_000 + i * 7}", experiment_type=kind
            ).accession
        )
    for i in range(5):  # private rows interleaved in the order: seeks must skip them too
        make_run(hidden, hidden_sample, accession=f"ERR{9_000_003 + i * 7}")
    cache.clear()
    return sorted(accessions)


def _pages(client: Client, query: str, page_size: int) -> list[list[str]]:
    """Every page of the list, until the API says there is none."""
    pages = []
    for page in range(1, RUNS + 1):
        response = client.get(f"/api/v2/runs/?page={page}&page_size={page_size}{query}")
        if response.status_code == 404:
            break
        pages.append([item["accession"] for item in response.json()["items"]])
    return pages


@pytest.mark.parametrize("query", ["", "&order=-accession", "&has_experiment_type=AMPLI"])
def test_deep_pages_seek_to_the_same_rows_as_offset(runs, monkeypatch, query: str) -> None:
    client = Client()
    by_offset = _pages(client, query, page_size=3)
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 4)
    monkeypatch.setattr(pagination, "ANCHOR_STEP", 5)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        by_seek = _pages(client, query, page_size=3)
    assert by_seek == by_offset
    assert any("anchor_rn" in q["sql"] for q in queries.captured_queries), "the seek path ran"
    flat = [acc for page in by_seek for acc in page]
    assert len(flat) == len(set(flat))
    if not query:
        assert flat == runs
    elif "AMPLI" in query:
        assert len(flat) == len([i for i in range(RUNS) if i % 3])


def test_large_counts_are_estimates_without_a_full_count(runs, monkeypatch) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analyses_run")
    monkeypatch.setattr(pagination, "SMALL_TABLE_ROWS", -2)  # every table counts as large
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 10)
    cache.clear()
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v2/runs/?page_size=5").json()
    assert body["count"] > pagination.EXACT_COUNT_LIMIT
    assert len(body["items"]) == 5
    # Counting stops at the limit + 1; past it the count is the planner's estimate.
    # (The small-table probe's SQL holds a count(*) that Postgres never runs for a large table.)
    counts = [
        q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("SELECT COUNT(")
    ]
    assert counts and all("LIMIT 11" in sql for sql in counts), counts
    assert any(q["sql"].upper().startswith("EXPLAIN") for q in queries.captured_queries)
    # Cached: the second request plans nothing.
    with CaptureQueriesContext(connection) as again:
        client.get("/api/v2/runs/?page_size=5")
    assert not any(q["sql"].upper().startswith("EXPLAIN") for q in again.captured_queries)


def test_counts_up_to_the_limit_stay_exact_on_large_tables(runs, monkeypatch) -> None:
    monkeypatch.setattr(pagination, "SMALL_TABLE_ROWS", -2)
    cache.clear()
    body = Client().get("/api/v2/runs/?has_experiment_type=METAG").json()
    assert body["count"] == len([i for i in range(RUNS) if i % 3 == 0])
