"""The fake ENA itself: it must behave like ENA.md's ENA, or the client tests prove nothing."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.ena import FakeENA
from tests.fakes.ena import datasets as ds
from tests.fakes.ena.querylang import QuerySyntaxError, compile_query, parse_query
from tests.fakes.ena.schema import KIND_FIELDS, Kind

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeENA]:
    with FakeENA() as server:
        ds.seed_realistic(server)
        yield server


@pytest.fixture
def http(fake: FakeENA) -> Iterator[httpx.Client]:
    fake.clear_faults()
    with httpx.Client(base_url=fake.portal_api_url, timeout=10) as client:
        yield client


def search(http: httpx.Client, **params: str) -> httpx.Response:
    return http.get("/search", params={"format": "json", "dataPortal": "metagenome", **params})


# -- query language ---------------------------------------------------------------------------

RUN = {
    "run_accession": "ERR1",
    "study_accession": "PRJEB1",
    "secondary_study_accession": "SRP000903;SRP001212",
    "library_strategy": "WGS",
    "first_public": "2024-01-15",
    "read_count": "1000",
    "tax_id": "412755",
}


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ('study_accession="PRJEB1"', True),
        ("study_accession=PRJEB1", True),
        ('"study_accession="PRJEB1""', True),  # whole query wrapped in quotes
        ('(study_accession="SRP001212" OR secondary_study_accession="SRP001212")', True),
        ('secondary_study_accession="SRP0009"', False),
        ('secondary_study_accession="SRP0009*"', True),
        ('library_strategy="wgs"', False),  # case-sensitive, zero rows rather than an error
        ("first_public>=2024-01-01 AND first_public<=2024-01-31", True),
        ("first_public>2024-01-15", False),
        ("NOT first_public<2024-01-15", True),
        ('library_strategy="WGS" and not (read_count<500 or tax_id=1)', True),
        ("read_count>=999.5", True),
        ("library_strategy!=AMPLICON", True),
        ("tax_tree(408169)", True),
        ("tax_tree(2)", False),
        ("tax_eq(412755)", True),
        ("last_updated>=2000-01-01", False),  # "" never satisfies a comparison
    ],
)
def test_query_semantics(query: str, matches: bool) -> None:
    predicate = compile_query(parse_query(query), KIND_FIELDS[Kind.RUN])
    assert predicate(RUN) is matches


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("(study_accession=PRJEB1", "unexpected end of query"),
        ("(study_accession=PRJEB1))", "unexpected ')'"),
        ("study_accession=", "unexpected end"),
        ("study_accession PRJEB1", "expected op"),
        ("AND study_accession=1", "unexpected 'AND'"),
        ('study_accession="PRJEB1', "unexpected"),
        ("first_public>=yesterday", "Invalid date value"),
        ("study_title>=a", "Invalid column"),
        ("library_strategy>=a", "Invalid operator"),
        ("read_count>=many", "Invalid numeric value"),
        ("tax_tree(abc)", "needs a taxon id"),
        ("foo=1", "Invalid column (foo) has been provided in query"),
        ("study_accession=1 study_accession=2", "unexpected"),
    ],
)
def test_query_errors(query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_query(parse_query(query), KIND_FIELDS[Kind.RUN])


# -- HTTP behaviour ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"result": "read_run", "offset": "10"}, "Unsupported param offset"),
        (
            {"result": "read_run", "fields": "fastq_ftp,nope,bad"},
            "Invalid fieldName(s) supplied: nope,bad",
        ),
        (
            {"result": "read_run", "query": "nope=1"},
            "Invalid column (nope) has been provided in query",
        ),
        ({"result": "nonsense"}, "Invalid result: nonsense"),
        ({"result": "read_run", "dataPortal": "pathogen"}, "Invalid dataPortal: pathogen"),
        ({"result": "read_run", "query": "(a"}, "Invalid query"),
    ],
)
def test_errors_are_400_with_a_message(
    http: httpx.Client, params: dict[str, str], message: str
) -> None:
    response = search(http, **params)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_rows_are_strings_with_the_accession_first(fake: FakeENA, http: httpx.Client) -> None:
    rows = search(
        http, result="read_run", fields="first_public,fastq_md5", query="run_accession=SRR6301444"
    ).json()
    md5s = fake.record(Kind.RUN, "SRR6301444")["fastq_md5"]  # type: ignore[index]
    assert rows == [{"run_accession": "SRR6301444", "first_public": "", "fastq_md5": md5s}]
    assert md5s.count(";") == 1
    assert search(http, result="read_run", query="run_accession=ERR1").json() == []


def test_count_formats_tsv_default_and_json(http: httpx.Client) -> None:
    params = {
        "result": "read_run",
        "query": 'study_accession="PRJEB41657"',
        "dataPortal": "metagenome",
    }
    tsv = http.get("/count", params=params)
    assert tsv.text == "count\n3\n"
    assert http.get("/count", params={**params, "format": "json"}).json() == {"count": 3}


def test_tsv_search_post_form_and_filereport(http: httpx.Client) -> None:
    tsv = http.get(
        "/search",
        params={"result": "sample", "query": "sample_accession=SAMEA7687881", "fields": "country",
                "dataPortal": "metagenome"},
    )  # fmt: skip
    assert tsv.text == "sample_accession\tcountry\nSAMEA7687881\tNorway\n"
    posted = http.post(
        "/search",
        data={"result": "read_run", "query": "study_accession=PRJEB41657", "format": "json",
              "dataPortal": "metagenome", "limit": "2"},
    )  # fmt: skip
    assert len(posted.json()) == 2
    report = http.get(
        "/filereport",
        params={
            "accession": "SAMEA7687882",
            "result": "read_run",
            "fields": "fastq_ftp",
            "format": "json",
        },
    )
    assert [row["run_accession"] for row in report.json()] == ["ERR4918397"]


def test_portals_limit_and_accession_lists(http: httpx.Client) -> None:
    everywhere = {"dataPortal": "ena", "includeMetagenomes": "true"}
    studies = {r["study_accession"] for r in search(http, result="study", **everywhere).json()}
    assert ds.ENA_PORTAL_STUDY in studies and ds.HOLOFOOD_STUDY in studies
    only_ena = search(http, result="study", dataPortal="ena").json()
    assert [r["study_accession"] for r in only_ena] == [ds.ENA_PORTAL_STUDY]
    assert len(search(http, result="read_run", limit="1").json()) == 1
    included = search(http, result="read_run", includeAccessions="ERR4918394,ERR4918398").json()
    assert {r["run_accession"] for r in included} == {"ERR4918394", "ERR4918398"}


def test_private_records_need_basic_auth(fake: FakeENA, http: httpx.Client) -> None:
    query = {"result": "read_run", "query": f'study_accession="{ds.PRIVATE_STUDY}"'}
    assert search(http, **query).json() == []
    hub = search_with_auth(http, query, (ds.DATAHUB_USERNAME, ds.DATAHUB_PASSWORD))
    owner = search_with_auth(http, query, (ds.PRIVATE_OWNER_USERNAME, ds.PRIVATE_OWNER_PASSWORD))
    assert len(hub.json()) == 1 and len(owner.json()) == 1
    fake.add_webin_account("Webin-1", "pw")
    assert search_with_auth(http, query, ("Webin-1", "pw")).json() == []  # someone else's
    assert search_with_auth(http, query, (ds.DATAHUB_USERNAME, "wrong")).status_code == 401
    assert fake.requests[-2].auth_user == "Webin-1"


def search_with_auth(
    http: httpx.Client, params: dict[str, str], auth: tuple[str, str]
) -> httpx.Response:
    return http.get(
        "/search", params={"format": "json", "dataPortal": "metagenome", **params}, auth=auth
    )


def test_webin_token_endpoint(fake: FakeENA) -> None:
    body = {
        "authRealms": ["ENA"],
        "username": ds.PRIVATE_OWNER_USERNAME,
        "password": ds.PRIVATE_OWNER_PASSWORD,
    }
    good = httpx.post(fake.webin_auth_url, json=body)
    assert good.status_code == 200 and good.text.startswith("fake-webin-token.")
    assert httpx.post(fake.webin_auth_url, json={**body, "password": "x"}).status_code == 401
    assert httpx.post(fake.webin_auth_url, json={**body, "authRealms": []}).status_code == 401
    assert httpx.post(fake.webin_auth_url, content=b"not json").status_code == 400


def test_faults_are_counted_and_path_specific(fake: FakeENA, http: httpx.Client) -> None:
    fake.fault("http_503", times=2, path="/count")
    assert search(http, result="study").status_code == 200
    assert http.get("/count", params={"result": "study"}).status_code == 503
    assert http.get("/count", params={"result": "study"}).status_code == 503
    assert http.get("/count", params={"result": "study"}).status_code == 200
    fake.fault("http_429", retry_after=3)
    response = search(http, result="study")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    fake.fault("truncated_json")
    truncated = search(http, result="study")
    assert truncated.status_code == 200 and not truncated.text.endswith("]")
    fake.fault("no_content_204")
    assert search(http, result="study").status_code == 204


def test_shuffled_order_is_deterministic_by_seed() -> None:
    orders = []
    for _ in range(2):
        with FakeENA(shuffle_seed=42) as fake:
            ds.generate_study(fake, "PRJEB900100", 5, 30, seed=1)
            rows = httpx.get(
                f"{fake.portal_api_url}/search",
                params={"result": "read_run", "format": "json", "dataPortal": "metagenome"},
            ).json()
            orders.append([row["run_accession"] for row in rows])
    assert orders[0] == orders[1] and orders[0] != sorted(orders[0])


def test_generated_study_is_consistent_and_served_fast() -> None:
    with FakeENA() as fake:
        started = time.perf_counter()
        study = ds.generate_study(fake, None, 10_000, 20_000, seed=5)
        generated = time.perf_counter() - started
        assert len(study.sample_accessions) == 10_000 and len(study.run_accessions) == 20_000
        started = time.perf_counter()
        response = httpx.get(
            f"{fake.portal_api_url}/search",
            params={
                "result": "read_run", "format": "json", "dataPortal": "metagenome", "limit": "0",
                "query": f'(study_accession="{study.accession}" OR '
                f'secondary_study_accession="{study.accession}")',
                "fields": "library_layout,fastq_ftp,fastq_md5,fastq_bytes,sample_accession",
            },
            timeout=30,
        )  # fmt: skip
        served = time.perf_counter() - started
        rows = response.json()
    assert len(rows) == 20_000
    for row in rows:
        files = row["fastq_ftp"].split(";")
        assert len(files) == len(row["fastq_md5"].split(";")) == len(row["fastq_bytes"].split(";"))
        if row["library_layout"] == "PAIRED":
            assert [name[-11:] for name in files] == ["_1.fastq.gz", "_2.fastq.gz"]
        else:
            assert len(files) == 1 and row["library_layout"] == "SINGLE"
    assert generated < 5 and served < 5, f"generate {generated:.2f}s, serve {served:.2f}s"


def test_generate_studies_spreads_first_public(fake: FakeENA) -> None:
    with FakeENA() as other:
        accessions = ds.generate_studies(other, 20, dt.date(2024, 1, 1), days=5)
        days = {other.record(Kind.STUDY, a)["first_public"] for a in accessions}  # type: ignore[index]
        assert len(accessions) == 20 and days <= {f"2024-01-0{d}" for d in range(1, 6)}


def test_records_must_be_ena_strings(fake: FakeENA) -> None:
    with pytest.raises(TypeError, match="strings"):
        fake.add_run({"run_accession": "ERR1", "read_count": 5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="no field"):
        fake.add_study({"study_accession": "PRJEB1", "fastq_ftp": ""})


def test_started_by_hand() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.ena", "--port", "0", "--dataset", "realistic"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(9)]
        exports = dict(
            line.strip().removeprefix("export ").split("=", 1)
            for line in lines
            if "export " in line
        )
        url = exports["EMG_ENA__PORTAL_API_URL"]
        assert exports["EMG_WEBIN__DATAHUB_USERNAME"] == ds.DATAHUB_USERNAME
        assert exports["EMG_WEBIN__AUTH_URL"].endswith("/ena/submit/webin/auth/token")
        response = httpx.get(f"{url}/count", params={"result": "study", "dataPortal": "metagenome"})
        assert response.text.startswith("count\n")
    finally:
        process.terminate()
        process.wait(timeout=10)
