"""The ENA client against the fake ENA over real HTTP on 127.0.0.1 (no mocking of httpx)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import dagster as dg
import pytest
from pydantic import HttpUrl, SecretStr

from emg_assets.ena.client import ENAClient
from emg_assets.ena.errors import (
    ENAAuthError,
    ENABadRequestError,
    ENAUnavailableError,
)
from emg_assets.ena.query import ENAQuery, ENAQueryError
from emg_assets.ena.vocabulary import DataPortal, ENAResult, LibraryLayout
from emg_django.config import ENAConfig, WebinConfig
from tests.fakes.ena import FakeENA
from tests.fakes.ena import datasets as ds

#: Small backoff so retry tests stay fast.
FAST: dict[str, Any] = {
    "backoff_base_seconds": 0.01,
    "backoff_cap_seconds": 0.05,
    "max_requests_per_second": 50,
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeENA]:
    with FakeENA() as server:
        ds.seed_realistic(server)
        yield server


@pytest.fixture(autouse=True)
def _clean(fake: FakeENA) -> Iterator[None]:
    fake.clear_faults()
    fake.clear_requests()
    yield
    fake.clear_faults()


def make_client(fake: FakeENA, **overrides: object) -> ENAClient:
    settings: dict[str, object] = {"portal_api_url": fake.portal_api_url, "max_retries": 3, **FAST}
    settings.update(overrides)
    return ENAClient(**settings)  # type: ignore[arg-type]


@pytest.fixture
def client(fake: FakeENA) -> Iterator[ENAClient]:
    ena = make_client(fake)
    yield ena
    ena.close()


@pytest.fixture
def hub_client(fake: FakeENA) -> Iterator[ENAClient]:
    ena = make_client(
        fake, datahub_username=ds.DATAHUB_USERNAME, datahub_password=ds.DATAHUB_PASSWORD
    )
    yield ena
    ena.close()


# -- search, fields, queries -----------------------------------------------------------------


def test_search_selects_fields_and_sends_a_built_query(fake: FakeENA, client: ENAClient) -> None:
    rows = client.search(
        ENAResult.READ_RUN,
        ENAQuery.for_study("ERP125469"),
        fields=["library_layout", "fastq_ftp", "read_count"],
    )
    assert sorted(row["run_accession"] for row in rows) == [
        "ERR4918394",
        "ERR4918397",
        "ERR4918398",
    ]
    assert all(
        list(row) == ["run_accession", "library_layout", "fastq_ftp", "read_count"] for row in rows
    )
    assert all(isinstance(value, str) for row in rows for value in row.values())
    (request,) = fake.requests_to("/search")
    assert request.params == {
        "result": "read_run",
        "query": '(study_accession="ERP125469" OR secondary_study_accession="ERP125469")',
        "fields": "library_layout,fastq_ftp,read_count",
        "limit": "0",
        "format": "json",
        "dataPortal": "metagenome",
    }
    assert request.auth_user is None


def test_limit_and_portals(client: ENAClient) -> None:
    assert len(client.search(ENAResult.STUDY, limit=2)) == 2
    # The ena-portal-only study is not in the metagenome portal, and metagenome data is not in
    # the ena portal unless includeMetagenomes.
    in_metagenome = {r["study_accession"] for r in client.search(ENAResult.STUDY)}
    in_ena = {
        r["study_accession"] for r in client.search(ENAResult.STUDY, data_portal=DataPortal.ENA)
    }
    in_both = {
        r["study_accession"]
        for r in client.search(
            ENAResult.STUDY, data_portal=DataPortal.ENA, include_metagenomes=True
        )
    }
    assert ds.ENA_PORTAL_STUDY not in in_metagenome and ds.HOLOFOOD_STUDY in in_metagenome
    assert in_ena == {ds.ENA_PORTAL_STUDY}
    assert in_both == in_metagenome | in_ena
    # The private study is invisible without credentials.
    assert ds.PRIVATE_STUDY not in in_both


def test_empty_answers(fake: FakeENA, client: ENAClient) -> None:
    assert client.search(ENAResult.READ_RUN, ENAQuery.for_study("PRJEB1")) == []  # 200 []
    fake.fault("no_content_204", path="/search")
    assert client.search(ENAResult.READ_RUN) == []
    assert len(fake.requests_to("/search")) == 2  # neither retried


def test_fields_and_queries_are_validated_before_any_request(
    fake: FakeENA, client: ENAClient
) -> None:
    with pytest.raises(ENAQueryError, match="no field"):
        client.search(ENAResult.STUDY, fields=["fastq_ftp"])
    with pytest.raises(ENAQueryError, match="no field"):
        client.search(ENAResult.STUDY, ENAQuery.eq("library_strategy", "WGS"))
    with pytest.raises(ENAQueryError, match="sequence of names"):
        client.search(ENAResult.STUDY, fields="study_title")
    with pytest.raises(TypeError, match="ENAQuery"):
        client.search(ENAResult.STUDY, 'study_accession="PRJEB1"')  # type: ignore[arg-type]
    with pytest.raises(ENAQueryError, match="limit"):
        client.search(ENAResult.STUDY, limit=-1)
    assert fake.requests == []


def test_long_queries_are_posted(fake: FakeENA, client: ENAClient) -> None:
    runs = ["ERR4918394", "ERR4918398", *(f"ERR{n}" for n in range(10_000_000, 10_000_300))]
    query = ENAQuery.any_of("run_accession", runs)
    assert len(query.render()) > 4000
    rows = client.search(ENAResult.READ_RUN, query)
    assert sorted(row["run_accession"] for row in rows) == ["ERR4918394", "ERR4918398"]
    (request,) = fake.requests_to("/search")
    assert request.params["query"] == query.render()


def test_count_and_file_report(client: ENAClient) -> None:
    assert client.count(ENAResult.READ_RUN, ENAQuery.for_study(ds.HOLOFOOD_STUDY)) == 3
    assert client.count(ENAResult.READ_RUN, ENAQuery.tax_tree(408169)) >= 5
    rows = client.file_report("ERR4918394", fields=["fastq_ftp", "fastq_md5"])
    assert [row["run_accession"] for row in rows] == ["ERR4918394"]
    assert rows[0]["fastq_ftp"].count(";") == 1


# -- typed helpers ---------------------------------------------------------------------------


def test_get_study_public_by_either_accession(fake: FakeENA, client: ENAClient) -> None:
    study = client.get_study("SRP125161")
    assert study is not None and study.study_accession == ds.GUAYMAS_STUDY
    assert study.accessions == ["PRJNA362212", "SRP125161"] and not study.is_private
    assert study.first_public == dt.date(2017, 11, 22)
    assert len(fake.requests_to("/search")) == 1  # found in the metagenome portal at once
    multi = client.get_study("SRP001212")
    assert multi is not None and multi.secondary_study_accession == ["SRP000903", "SRP001212"]


def test_get_study_falls_back_to_the_ena_portal(fake: FakeENA, client: ENAClient) -> None:
    study = client.get_study(ds.ENA_PORTAL_STUDY)
    assert study is not None and not study.is_private
    assert [r.params["dataPortal"] for r in fake.requests_to("/search")] == ["metagenome", "ena"]


def test_privacy_check(fake: FakeENA, client: ENAClient, hub_client: ENAClient) -> None:
    # Without data-hub credentials a private study looks like an unknown one.
    assert client.get_study(ds.PRIVATE_STUDY) is None
    fake.clear_requests()
    study = hub_client.get_study(ds.PRIVATE_STUDY)
    assert study is not None and study.is_private
    users = [(r.params["dataPortal"], r.auth_user) for r in fake.requests_to("/search")]
    assert users == [
        ("metagenome", None),
        ("ena", None),
        ("metagenome", ds.DATAHUB_USERNAME),
    ]
    # Public stays public with credentials configured (no authenticated request needed).
    fake.clear_requests()
    public = hub_client.get_study(ds.HOLOFOOD_STUDY)
    assert public is not None and not public.is_private
    assert [r.auth_user for r in fake.requests_to("/search")] == [None]
    # Unknown: four requests, nothing found.
    fake.clear_requests()
    assert hub_client.get_study("PRJEB1") is None
    assert len(fake.requests_to("/search")) == 4
    # Children of a private study need the authenticated flag.
    assert len(hub_client.get_read_runs(ds.PRIVATE_STUDY)) == 0
    assert len(hub_client.get_read_runs(ds.PRIVATE_STUDY, authenticated=True)) == 1
    with pytest.raises(ENAAuthError, match="datahub_username"):
        client.get_read_runs(ds.PRIVATE_STUDY, authenticated=True)


def test_wrong_credentials_fail_without_retry(fake: FakeENA) -> None:
    ena = make_client(fake, datahub_username=ds.DATAHUB_USERNAME, datahub_password="wrong")
    with pytest.raises(ENAAuthError, match="401"):
        ena.search(ENAResult.STUDY, authenticated=True)
    assert len(fake.requests_to("/search")) == 1


def test_samples_runs_assemblies(client: ENAClient) -> None:
    samples = client.get_samples(ds.HOLOFOOD_STUDY)
    assert sorted(s.sample_accession for s in samples) == [
        "SAMEA7678309", "SAMEA7687881", "SAMEA7687882",
    ]  # fmt: skip
    first = next(s for s in samples if s.sample_accession == "SAMEA7687881")
    assert first.collection_date == "2019-06-11" and first.country == "Norway"
    assert first.location == "66.079905 N 12.587848 E" and first.host_tax_id == 8030
    assert len(client.get_samples(ds.HOLOFOOD_STUDY, limit=2)) == 2

    runs = client.get_read_runs(ds.HOLOFOOD_SECONDARY)
    assert runs.problems == [] and len(runs) == 3
    assert {r.instrument_model for r in runs} == {"DNBSEQ-G400"}
    assert all(len(r.fastq_files) == 2 and r.fastq_files[1].read_number == 2 for r in runs)

    amplicon = client.get_read_runs(ds.AMPLICON_STUDY)
    assert {(r.library_strategy, r.library_layout, len(r.fastq_files)) for r in amplicon} == {
        ("AMPLICON", LibraryLayout.SINGLE, 1)
    }
    (transcriptome,) = client.get_read_runs(ds.METATRANSCRIPTOME_STUDY)
    assert transcriptome.library_source == "METATRANSCRIPTOMIC"

    assemblies = client.get_assemblies(ds.HOLOFOOD_STUDY)
    by_accession = {a.analysis_accession: a for a in assemblies}
    assert set(by_accession) == {"ERZ2626953", "ERZ9000001"}  # the MAG is not a primary assembly
    assert by_accession["ERZ9000001"].run_accession == ["ERR4918397", "ERR4918398"]
    assert by_accession["ERZ9000001"].is_co_assembly
    assert not by_accession["ERZ2626953"].is_co_assembly


def test_find_studies_window_and_strategies() -> None:
    with FakeENA(shuffle_seed=7) as fake:
        accessions = ds.generate_studies(fake, 40, dt.date(2024, 1, 1), days=10, seed=3)
        client = make_client(fake)
        expected = {
            accession
            for accession in accessions
            if "2024-01-03" <= fake.record(ds.Kind.STUDY, accession)["first_public"] <= "2024-01-05"  # type: ignore[index]
        }
        found = client.find_studies(dt.date(2024, 1, 3), dt.date(2024, 1, 5))
        assert {s.study_accession for s in found} == expected and found.problems == []
        (request,) = fake.requests_to("/search")
        assert request.params["result"] == "read_study"
        assert request.params["query"] == (
            "((first_public>=2024-01-03 AND first_public<=2024-01-05) OR "
            "(last_updated>=2024-01-03 AND last_updated<=2024-01-05))"
        )
        everything = client.find_studies(dt.date(2024, 1, 1))
        assert len(everything) == 40
        amplicon = client.find_studies(dt.date(2024, 1, 1), library_strategies=["AMPLICON"])
        assert {s.study_accession for s in amplicon} == set(accessions[1::2])


# -- faults ------------------------------------------------------------------------------------


def _fault_options(options: dict[str, float]) -> dict[str, Any]:
    return options


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("http_500", {}),
        ("http_503", {}),
        ("truncated_json", {}),
        ("http_429", {"retry_after": 0.1}),
        ("slow", {"delay": 0.6}),
    ],
)
def test_fault_is_retried_then_succeeds(
    fake: FakeENA, mode: str, options: dict[str, float]
) -> None:
    client = make_client(fake, timeout_seconds=0.3)
    fake.fault(mode, times=1, path="/search", **_fault_options(options))
    rows = client.search(ENAResult.READ_RUN, ENAQuery.for_study(ds.HOLOFOOD_STUDY))
    assert len(rows) == 3
    assert len(fake.requests_to("/search")) == 2
    assert client.stats.retries == 1 and client.stats.requests == 2 and client.stats.failures == 0


@pytest.mark.parametrize(
    ("mode", "options", "last_error"),
    [
        ("http_500", {}, "500 Internal Server Error"),
        ("http_503", {}, "503 Service Unavailable"),
        ("truncated_json", {}, "invalid JSON"),
        ("http_429", {"retry_after": 0.05}, "429 Too Many Requests"),
        ("slow", {"delay": 0.5}, "timed out after 0.2s"),
    ],
)
def test_exhausted_retries_name_the_url_and_the_last_error(
    fake: FakeENA, mode: str, options: dict[str, float], last_error: str
) -> None:
    client = make_client(fake, timeout_seconds=0.2, max_retries=2)
    fake.fault(mode, times=10, **_fault_options(options))
    with pytest.raises(ENAUnavailableError) as caught:
        client.search(ENAResult.STUDY, ENAQuery.for_study(ds.GUAYMAS_STUDY))
    message = str(caught.value)
    assert f"{fake.portal_api_url}/search?result=study" in message
    assert "after 3 attempt(s)" in message and last_error in message
    assert caught.value.attempts == 3 and last_error in caught.value.last_error
    assert len(fake.requests_to("/search")) == 3
    assert client.stats.failures == 1


def test_connection_errors_are_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ENAClient(
        portal_api_url=f"http://127.0.0.1:{port}/ena/portal/api", max_retries=1, **FAST
    )
    with pytest.raises(ENAUnavailableError, match="ConnectError") as caught:
        client.count(ENAResult.STUDY)
    assert f"127.0.0.1:{port}/ena/portal/api/count" in str(caught.value)
    assert client.stats.requests == 2


def test_429_retry_after_is_honoured(fake: FakeENA, client: ENAClient) -> None:
    fake.fault("http_429", times=1, retry_after=0.6)
    started = time.perf_counter()
    assert client.count(ENAResult.READ_RUN, ENAQuery.for_study(ds.HOLOFOOD_STUDY)) == 3
    elapsed = time.perf_counter() - started
    assert elapsed >= 0.6, f"retried after {elapsed:.2f}s, before Retry-After"
    assert elapsed < 2.0


def test_400_quotes_enas_message_and_is_not_retried(fake: FakeENA, client: ENAClient) -> None:
    fake.fault("http_400", message="Invalid column (foo) has been provided in query")
    with pytest.raises(ENABadRequestError) as caught:
        client.search(ENAResult.STUDY)
    assert caught.value.ena_message == "Invalid column (foo) has been provided in query"
    assert "Invalid column (foo) has been provided in query" in str(caught.value)
    assert fake.portal_api_url in str(caught.value)
    assert len(fake.requests_to("/search")) == 1


# -- rate limit, stats, configuration ---------------------------------------------------------


def test_rate_limit_is_shared_and_honoured(fake: FakeENA) -> None:
    # Two clients, four threads, 21 requests at 20/s: the first goes at once, the other 20
    # are spaced 50 ms apart, so at least 1.0 s in all.
    clients = [make_client(fake, max_requests_per_second=20) for _ in range(2)]
    assert clients[0].rate_limiter is clients[1].rate_limiter
    time.sleep(0.1)  # let the shared bucket refill after earlier tests

    def work(index: int, count: int) -> None:
        for _ in range(count):
            clients[index % 2].count(ENAResult.STUDY)

    threads = [threading.Thread(target=work, args=(i, n)) for i, n in enumerate((6, 5, 5, 5))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert len(fake.requests_to("/count")) == 21
    assert elapsed >= 0.95, f"21 requests at 20/s took only {elapsed:.2f}s"


def test_stats_for_materialisation_metadata(client: ENAClient) -> None:
    before = client.stats.snapshot()
    client.get_read_runs(ds.HOLOFOOD_STUDY)
    spent = client.stats.snapshot() - before
    assert spent.calls == 1 and spent.requests == 1 and spent.rows == 3 and spent.seconds > 0
    metadata = client.stats.as_metadata()
    assert metadata["ena_requests"] == 1 and metadata["ena_rows"] == 3


def test_configuration() -> None:
    with pytest.raises(ValueError, match="ENA's published limit"):
        ENAClient(max_requests_per_second=60)
    with pytest.raises(ValueError, match="both"):
        ENAClient(datahub_username="dcc_x")
    with pytest.raises(ValueError, match="http"):
        ENAClient(portal_api_url="ftp://example.org")
    default = ENAClient.from_config(ENAConfig(), WebinConfig())
    assert default.portal_api_url == "https://www.ebi.ac.uk/ena/portal/api"
    assert default.max_requests_per_second == 20 and not default.has_datahub_credentials
    configured = ENAClient.from_config(
        ENAConfig(portal_api_url=HttpUrl("http://127.0.0.1:8085/ena/portal/api/"), max_retries=1),
        WebinConfig(datahub_username="dcc_x", datahub_password=SecretStr("secret")),
    )
    assert configured.portal_api_url == "http://127.0.0.1:8085/ena/portal/api"
    assert configured.max_retries == 1 and configured.datahub_password == "secret"


def test_works_as_a_dagster_resource(fake: FakeENA) -> None:
    @dg.asset
    def holofood_runs(ena: ENAClient) -> dg.MaterializeResult:
        runs = ena.get_read_runs(ds.HOLOFOOD_STUDY)
        return dg.MaterializeResult(metadata={"runs": len(runs), **ena.stats.as_metadata()})

    result = dg.materialize([holofood_runs], resources={"ena": make_client(fake)})
    assert result.success
    (materialization,) = result.asset_materializations_for_node("holofood_runs")
    assert materialization.metadata["runs"].value == 3
    assert materialization.metadata["ena_requests"].value == 1
