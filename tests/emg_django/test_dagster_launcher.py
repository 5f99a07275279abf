"""Launching runs from Django through a real dagster-webserver's GraphQL API."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from emg_django.analyses.choices import INGEST_JOB_NAME
from emg_django.analyses.models import Study
from emg_django.config import DagsterConfig, get_config
from emg_django.dagster_launcher import DagsterLauncher, LaunchError, LaunchProblem
from tests.factories import make_study
from tests.fakes.ena.datasets import (
    DATAHUB_PASSWORD,
    DATAHUB_USERNAME,
    HOLOFOOD_STUDY,
    seed_realistic,
)
from tests.fakes.ena.server import FakeENA
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return (
        f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeENA]:
    with FakeENA() as server:
        seed_realistic(server)
        yield server


@pytest.fixture(scope="module")
def webserver(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeENA, django_db_setup, django_db_blocker
) -> Iterator[str]:  # noqa: ANN001
    """A dagster-webserver on the project's workspace; its runs write to the test database."""
    home = tmp_path_factory.mktemp("dagster-home")
    # No daemon here: launch runs at once instead of queueing them.
    (home / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
        "telemetry:\n  enabled: false\n"
    )
    port = free_port()
    with django_db_blocker.unblock():
        url = _database_url()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "EMG_DATABASE__URL": url,
        "EMG_DJANGO__DEBUG": "true",
        "EMG_ENA__PORTAL_API_URL": fake.portal_api_url,
        "EMG_WEBIN__DATAHUB_USERNAME": DATAHUB_USERNAME,
        "EMG_WEBIN__DATAHUB_PASSWORD": DATAHUB_PASSWORD,
    }
    log = (home / "webserver.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            str(ROOT / "workspace.yaml"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"dagster-webserver exited: {(home / 'webserver.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{base}/server_info", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("dagster-webserver did not answer within 90 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_for_run(home_url: str, run_id: str, timeout: float = 120) -> str:
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.post(
            f"{home_url}/graphql", json={"query": query, "variables": {"id": run_id}}, timeout=10
        ).json()["data"]["runOrError"]["status"]
        if status in {"SUCCESS", "FAILURE", "CANCELED"}:
            return status
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")


ACTIVE_STATUSES = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]


@pytest.fixture(autouse=True)
def _runs_finish_before_the_next_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Runs write to the test database: let them end before the next test resets it."""
    yield
    if "webserver" not in request.fixturenames:
        return
    webserver = request.getfixturevalue("webserver")
    query = (
        "query($s: [RunStatus!]) "
        "{ runsOrError(filter: {statuses: $s}) { ... on Runs { results { runId } } } }"
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        active = httpx.post(
            f"{webserver}/graphql",
            json={"query": query, "variables": {"s": ACTIVE_STATUSES}},
            timeout=10,
        ).json()["data"]["runsOrError"]["results"]
        if not active:
            return
        time.sleep(0.5)
    raise AssertionError(f"runs still active after 120 s: {active}")


def _run_tags(home_url: str, run_id: str) -> dict[str, str]:
    query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }"
    run = httpx.post(
        f"{home_url}/graphql", json={"query": query, "variables": {"id": run_id}}, timeout=10
    ).json()["data"]["runOrError"]
    return {tag["key"]: tag["value"] for tag in run["tags"]}


def test_launch_an_ingest_run_for_a_study(webserver: str) -> None:
    launcher = DagsterLauncher(
        DagsterConfig(webserver_url=webserver, public_url="https://dagster.example.org")
    )
    run = launcher.launch(INGEST_JOB_NAME, HOLOFOOD_STUDY, tags={"emg/requested_by": "curator"})
    assert run.url == f"https://dagster.example.org/runs/{run.run_id}"
    assert _wait_for_run(webserver, run.run_id) == "SUCCESS"
    assert Study.objects.get(ena_accessions__has_accession=HOLOFOOD_STUDY).runs.count() == 3
    # The partition was added, and launching again reuses it.
    again = launcher.launch(INGEST_JOB_NAME, HOLOFOOD_STUDY)
    assert again.run_id != run.run_id


def test_clear_errors(webserver: str) -> None:
    launcher = DagsterLauncher(DagsterConfig(webserver_url=webserver))
    with pytest.raises(LaunchError, match="no job 'no_such_job'") as missing:
        launcher.launch("no_such_job", HOLOFOOD_STUDY)
    assert missing.value.problem is LaunchProblem.NOT_FOUND
    with pytest.raises(LaunchError, match="invalid run config") as invalid:
        launcher.launch(
            INGEST_JOB_NAME,
            HOLOFOOD_STUDY,
            run_config={"ops": {"ena_samples": {"config": {"sample_limit": "many"}}}},
        )
    assert invalid.value.problem is LaunchProblem.BAD_REQUEST
    closed = DagsterLauncher(
        DagsterConfig(webserver_url=f"http://127.0.0.1:{free_port()}", timeout_seconds=2)
    )
    with pytest.raises(LaunchError, match="unreachable") as down:
        closed.launch(INGEST_JOB_NAME, HOLOFOOD_STUDY)
    assert down.value.problem is LaunchProblem.UNAVAILABLE


@pytest.fixture
def platform_dagster(webserver: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the platform's configuration at the test webserver."""
    monkeypatch.setattr(get_config(), "dagster", DagsterConfig(webserver_url=webserver))
    return webserver


@pytest.fixture
def staff(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setenv("EMG_CURATOR_PASSWORD", "a-long-curator-password")
    call_command("create_curator", "--username", "curator")
    get_user_model().objects.create_user("reader", password="a-long-reader-password")
    return "curator", "a-long-curator-password"


def _basic(username: str, password: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": "Basic "
        + base64.b64encode(f"{username}:{password}".encode()).decode()
    }


def test_admin_action_launches_and_reports(platform_dagster: str, staff: tuple[str, str]) -> None:
    webserver = platform_dagster
    study = make_study(accession=HOLOFOOD_STUDY, secondary="ERP125469")
    client = Client()
    client.login(username=staff[0], password=staff[1])
    response = client.post(
        reverse("admin:analyses_study_changelist"),
        {
            "action": f"launch_{INGEST_JOB_NAME}",
            "_selected_action": [study.pk],
        },
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1 and "launched" in shown[0] and f"{webserver}/runs/" in shown[0], shown
    run_id = shown[0].split("/runs/")[1].split('"')[0]
    assert _run_tags(webserver, run_id)["emg/requested_by"] == "curator"
    response = client.post(
        reverse("admin:analyses_study_changelist"),
        {
            "action": "launch_no_such",
            "_selected_action": [study.pk],
        },
        follow=True,
    )
    assert response.status_code == 200


def test_admin_api_launches_for_staff_only(platform_dagster: str, staff: tuple[str, str]) -> None:
    study = make_study(accession=HOLOFOOD_STUDY, secondary="ERP125469", private=True)
    url = f"/api/v2/admin/studies/{study.accession}/ingest"
    # Scripts send no CSRF token: Basic auth must work with CSRF checks on.
    client = Client(enforce_csrf_checks=True)
    assert client.post(url, {}, content_type="application/json").status_code == 401
    assert (
        client.post(
            url, {}, content_type="application/json", **_basic("reader", "a-long-reader-password")
        ).status_code
        == 401
    )
    assert (
        client.post(
            url, {}, content_type="application/json", **_basic("curator", "wrong")
        ).status_code
        == 401
    )

    response = client.post(url, {}, content_type="application/json", **_basic(*staff))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["job_name"] == INGEST_JOB_NAME and body["partition_key"] == HOLOFOOD_STUDY
    assert body["url"].endswith(f"/runs/{body['run_id']}")
    assert _run_tags(platform_dagster, body["run_id"])["emg/requested_by"] == "curator"

    # Analyse, by ENA accession too; unknown studies and pipelines are 4xx with a message.
    analysed = client.post(
        "/api/v2/admin/studies/ERP125469/analyse",
        {"pipeline": "amplicon"},
        content_type="application/json",
        **_basic(*staff),
    )
    assert analysed.status_code == 201, analysed.content
    assert analysed.json()["job_name"] == "amplicon_analysis"
    assert _run_tags(platform_dagster, analysed.json()["run_id"])["emg/pipeline"] == "amplicon"
    by_ena = client.post(
        "/api/v2/admin/studies/ERP125469/analyse",
        {"pipeline": "metabolomics"},
        content_type="application/json",
        **_basic(*staff),
    )
    assert by_ena.status_code == 422 and "pipeline" in by_ena.json()["detail"]
    unknown = client.post(
        "/api/v2/admin/studies/PRJEB1/ingest", {}, content_type="application/json", **_basic(*staff)
    )
    assert unknown.status_code == 404 and "PRJEB1" in unknown.json()["detail"]


def test_admin_api_session_needs_csrf_and_reports_dagster_down(
    staff: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        get_config(),
        "dagster",
        DagsterConfig(webserver_url=f"http://127.0.0.1:{free_port()}", timeout_seconds=2),
    )
    study = make_study(accession=HOLOFOOD_STUDY, secondary="ERP125469")
    client = Client(enforce_csrf_checks=True)
    client.login(username=staff[0], password=staff[1])
    url = f"/api/v2/admin/studies/{study.accession}/analyse"
    assert (
        client.post(url, {"pipeline": "amplicon"}, content_type="application/json").status_code
        == 403
    )
    down = Client().post(
        url, {"pipeline": "amplicon"}, content_type="application/json", **_basic(*staff)
    )
    assert down.status_code == 503 and "unreachable" in down.json()["detail"]
