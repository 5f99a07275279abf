"""Download files: public ones on the results host, private ones through the API to their owner."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from emg_django.analyses.models import Analysis, Study
from emg_django.config import ResultsConfig, get_config
from tests.emg_django.api.conftest import OWNER, STRANGER, World, bearer, url
from tests.factories import make_download

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://results.example.org/pub"
TSV = "text/tab-separated-values"


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ResultsConfig:
    """Results dirs of this test, served (public ones) under :data:`PUBLIC_URL`."""
    config = get_config().results.model_copy(
        update={
            "public_dir": tmp_path / "public",
            "private_dir": tmp_path / "private",
            "public_url": PUBLIC_URL,
            "private_accel_redirect": None,
        }
    )
    monkeypatch.setattr(get_config(), "results", config)
    return config


def _write(root: Path, results_dir: str, path: str, content: bytes) -> Path:
    file = root / results_dir / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(content)
    return file


def _private_analysis_file(world: World, results: ResultsConfig) -> tuple[Analysis, dict, bytes]:
    analysis = world.private.run_analysis
    [entry] = analysis.downloads
    content = b"#SampleID\tERR30011\nsk__Bacteria\t1532\n"
    _write(results.private_dir, analysis.results_dir, entry["path"], content)
    return analysis, entry, content


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_private_analysis_lists_api_urls_that_serve_its_owner(
    client, admin_client, world: World, results: ResultsConfig
) -> None:
    analysis, entry, content = _private_analysis_file(world, results)
    detail = client.get(url(f"analyses/{analysis.accession}"), headers=bearer(OWNER)).json()
    [download] = detail["downloads"]
    route = url(f"analyses/{analysis.accession}/downloads/{entry['alias']}")
    assert download["url"] == f"http://testserver{route}"

    response = client.get(route, headers=bearer(OWNER))
    assert response.status_code == 200
    assert _body(response) == content
    assert response["Content-Type"] == TSV
    assert response["Content-Disposition"] == f'attachment; filename="{entry["alias"]}"'
    assert response["Cache-Control"] == "private, no-store"
    staff = admin_client.get(route)
    assert staff.status_code == 200 and _body(staff) == content


def test_private_files_are_404_for_anonymous_callers_and_strangers(
    client, world: World, results: ResultsConfig
) -> None:
    analysis, entry, content = _private_analysis_file(world, results)
    route = url(f"analyses/{analysis.accession}/downloads/{entry['alias']}")
    for headers in ({}, bearer(STRANGER)):
        response = client.get(route, headers=headers)
        assert response.status_code == 404
        assert response.json() == {"detail": f"No analysis {analysis.accession}"}
        assert content not in response.content


def test_a_suppressed_objects_files_are_hidden_from_its_owner(
    client, world: World, results: ResultsConfig
) -> None:
    world.suppressed.study.ena_study.webin_submitter = OWNER
    world.suppressed.study.ena_study.save()  # propagates the owner down the tree
    analysis = world.suppressed.run_analysis
    alias = analysis.downloads[0]["alias"]
    response = client.get(
        url(f"analyses/{analysis.accession}/downloads/{alias}"), headers=bearer(OWNER)
    )
    assert response.status_code == 404


def test_a_public_file_redirects_to_the_results_host(client, world: World, results) -> None:
    analysis = world.public.run_analysis
    detail = client.get(url(f"analyses/{analysis.accession}")).json()
    [download] = detail["downloads"]
    expected = f"{PUBLIC_URL}/{analysis.results_dir}/{analysis.downloads[0]['path']}"
    assert download["url"] == expected
    response = client.get(url(f"analyses/{analysis.accession}/downloads/{download['alias']}"))
    assert response.status_code == 302
    assert response["Location"] == expected


def test_study_downloads_follow_the_same_rules(
    client, world: World, results: ResultsConfig
) -> None:
    study = world.private.study
    [entry] = study.downloads
    content = b"taxonomy\tERR30011\n"
    _write(results.private_dir, study.results_dir, entry["path"], content)
    route = url(f"studies/{study.accession}/downloads/{entry['alias']}")
    detail = client.get(url(f"studies/{study.accession}"), headers=bearer(OWNER)).json()
    assert [item["url"] for item in detail["downloads"]] == [f"http://testserver{route}"]
    response = client.get(route, headers=bearer(OWNER))
    assert response.status_code == 200 and _body(response) == content
    assert client.get(route).status_code == 404

    public = world.public.study
    [summary] = public.downloads
    response = client.get(url(f"studies/{public.accession}/downloads/{summary['alias']}"))
    assert response.status_code == 302
    assert response["Location"] == f"{PUBLIC_URL}/{public.results_dir}/{summary['path']}"


def test_unknown_aliases_missing_files_and_bad_accessions_are_clear_4xx(
    client, world: World, results: ResultsConfig
) -> None:
    analysis, entry, _ = _private_analysis_file(world, results)
    owner = bearer(OWNER)
    response = client.get(url(f"analyses/{analysis.accession}/downloads/nope.tsv"), headers=owner)
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"analysis {analysis.accession} has no download 'nope.tsv'"
    }
    (results.private_dir / analysis.results_dir / entry["path"]).unlink()
    response = client.get(
        url(f"analyses/{analysis.accession}/downloads/{entry['alias']}"), headers=owner
    )
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"analysis {analysis.accession}: the file is not available"
    }
    response = client.get(url("analyses/MGYS00000001/downloads/x.tsv"))
    assert response.status_code == 400 and "MGYA" in response.json()["detail"]


@pytest.mark.parametrize(
    "results_dir, path",
    [
        ("PRJEB30/PRJEB3001/analyses/x", "../../../../secret.tsv"),  # leaves the private dir
        ("PRJEB30/PRJEB3001/analyses/x", "../../other/secret.tsv"),  # another object's files
        ("/work/results-work/chunk-1/outdir", "secret.tsv"),  # not published yet
        ("", "secret.tsv"),
    ],
)
def test_a_path_outside_the_objects_published_results_is_never_served(
    client, world: World, results: ResultsConfig, results_dir: str, path: str
) -> None:
    analysis = world.private.run_analysis
    secret = b"not for download"
    for root in (results.private_dir, results.private_dir / "PRJEB30/PRJEB3001/analyses/x"):
        _write(root, "", "secret.tsv", secret)
    _write(results.private_dir, "PRJEB30/PRJEB3001", "other/secret.tsv", secret)
    Analysis.objects.filter(pk=analysis.pk).update(
        results_dir=results_dir, downloads=[make_download("secret.tsv", path=path)]
    )
    response = client.get(
        url(f"analyses/{analysis.accession}/downloads/secret.tsv"), headers=bearer(OWNER)
    )
    assert response.status_code == 404
    assert response.json() == {
        "detail": f"analysis {analysis.accession}: its results are not published"
    }


@pytest.fixture
def accel(results: ResultsConfig, monkeypatch: pytest.MonkeyPatch) -> str:
    """Private files are handed to nginx under this internal prefix."""
    prefix = "/private/"
    update = {"private_accel_redirect": prefix}
    monkeypatch.setattr(get_config(), "results", results.model_copy(update=update))
    return prefix


def test_with_an_accel_prefix_the_front_server_sends_the_file(
    client, world: World, accel: str
) -> None:
    study = world.private.study
    Study.objects.filter(pk=study.pk).update(
        downloads=[make_download("PRJEB3001 summary.tsv", path="study-summaries/a b.tsv")]
    )
    response = client.get(
        url(f"studies/{study.accession}/downloads/PRJEB3001 summary.tsv"), headers=bearer(OWNER)
    )
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"{accel}{study.results_dir}/study-summaries/a%20b.tsv"
    assert _body(response) == b""  # the file does not go through the API
    assert response["Content-Type"] == TSV
    assert response["Content-Disposition"] == 'attachment; filename="PRJEB3001 summary.tsv"'
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "value, expected", [("/private-results", "/private-results/"), (" ", None)]
)
def test_the_accel_prefix_is_an_internal_path(value: str, expected: str | None) -> None:
    assert ResultsConfig(private_accel_redirect=value).private_accel_redirect == expected


def test_an_accel_prefix_that_is_not_a_path_is_refused() -> None:
    with pytest.raises(ValueError, match="internal URL path"):
        ResultsConfig(private_accel_redirect="https://files.example.org/")


def test_public_urls_are_percent_encoded_and_redirects_match(
    client, world: World, results: ResultsConfig
) -> None:
    analysis = world.public.run_analysis
    Analysis.objects.filter(pk=analysis.pk).update(
        downloads=[make_download("Ünïcode #1 100%.tsv", path="qc/Ünïcode #1 100%.tsv")]
    )
    [download] = client.get(url(f"analyses/{analysis.accession}")).json()["downloads"]
    encoded = "qc/%C3%9Cn%C3%AFcode%20%231%20100%25.tsv"
    assert download["url"] == f"{PUBLIC_URL}/{analysis.results_dir}/{encoded}"
    alias = quote("Ünïcode #1 100%.tsv")
    response = client.get(url(f"analyses/{analysis.accession}/downloads/{alias}"))
    assert response.status_code == 302 and response["Location"] == download["url"]


@pytest.mark.parametrize("results_dir", ["", ".", "/work/results-work/chunk-1/out", "../x"])
def test_unpublished_results_list_no_downloads_and_serve_none(
    client, world: World, results: ResultsConfig, results_dir: str
) -> None:
    for tree, headers in ((world.public, {}), (world.private, bearer(OWNER))):
        analysis = tree.run_analysis
        Analysis.objects.filter(pk=analysis.pk).update(results_dir=results_dir)
        detail = client.get(url(f"analyses/{analysis.accession}"), headers=headers).json()
        assert detail["downloads"] == []
        alias = analysis.downloads[0]["alias"]
        response = client.get(
            url(f"analyses/{analysis.accession}/downloads/{alias}"), headers=headers
        )
        assert response.status_code == 404
        assert response.json() == {
            "detail": f"analysis {analysis.accession}: its results are not published"
        }


def test_an_alias_must_be_one_path_segment() -> None:
    from pydantic import ValidationError

    from emg_django.analyses.schemas import DownloadFile

    for alias in ("taxonomy/ERR1_SSU.tsv", ".", ".."):
        with pytest.raises(ValidationError, match="alias"):
            DownloadFile.model_validate(make_download(alias))


def test_a_stored_alias_with_a_slash_is_left_out_not_a_500(
    client, world: World, results: ResultsConfig
) -> None:
    analysis = world.private.run_analysis
    good = make_download("ERR30011_SILVA-SSU.tsv")
    # Written around the schema, as an older row or a hand edit could be.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Analysis._meta.db_table} SET downloads = %s WHERE id = %s",
            [json.dumps([good, {**good, "alias": "a/b.tsv"}]), analysis.pk],
        )
    response = client.get(url(f"analyses/{analysis.accession}"), headers=bearer(OWNER))
    assert response.status_code == 200
    assert [d["alias"] for d in response.json()["downloads"]] == ["ERR30011_SILVA-SSU.tsv"]


def test_compressed_files_keep_their_type_through_nginx(client, world: World, accel: str) -> None:
    analysis = world.private.run_analysis
    Analysis.objects.filter(pk=analysis.pk).update(
        downloads=[make_download("ERR1.fasta.gz", path="seq/ERR1.fasta.gz")]
    )
    response = client.get(
        url(f"analyses/{analysis.accession}/downloads/ERR1.fasta.gz"), headers=bearer(OWNER)
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert response["X-Accel-Redirect"] == f"{accel}{analysis.results_dir}/seq/ERR1.fasta.gz"
    assert "Content-Length" not in response  # nginx sets the file's
