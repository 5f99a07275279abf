"""A study's results follow its privacy: a private study's are published under the private dir and
served to its owner through the API, moved to the public dir when ENA releases the study (and
back when ENA hides a public one) by ``results_privacy`` in the ``ena_ingest`` job, once."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from django.db import connection
from django.test import Client

from emg_assets.analyses.assets import ANALYSIS_ASSETS, amplicon_analyses, study_summary
from emg_assets.analyses.results_privacy import MOVED, results_privacy
from emg_assets.ena.assets import INGEST_ASSETS
from emg_assets.jobs import ANALYSIS_JOBS, ena_ingest_job
from emg_django.analyses.choices import AnalysisStatus
from emg_django.analyses.models import Analysis, Study
from emg_django.analyses.visibility import propagate_visibility
from emg_django.api.security import issue_token
from emg_django.config import get_config
from emg_django.ena import models as ena_models
from slurm_resource import SlurmResource
from tests.emg_assets.analyses.conftest import pipelines_resource
from tests.fakes.ena.datasets import generate_study

pytestmark = pytest.mark.django_db(transaction=True)

OWNER = "Webin-5150"
BIOME = "root:Environmental:Aquatic:Marine"
API = "/" + get_config().api.prefix
ALL_ASSETS = [*INGEST_ASSETS, *ANALYSIS_ASSETS, results_privacy]


def _materialize(instance, resources, key: str, selection, run_config=None):
    return dg.materialize(
        ALL_ASSETS,
        selection=selection,
        partition_key=key,
        instance=instance,
        resources=resources,
        run_config=run_config,
    )


def _privacy_metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = [
        m for m in result.get_asset_materialization_events() if m.asset_key == results_privacy.key
    ]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def _moved(result: dg.ExecuteInProcessResult) -> bool:
    return _privacy_metadata(result)[MOVED]


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path → content)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def mirror_private(instance, ena, fake_ena, partitions, results_base, monkeypatch):
    """Makes a private amplicon study of ``OWNER`` in the fake ENA and mirrors it, with results
    dirs under ``results_base`` (the API's too). Returns (accession, resources)."""

    def mirror(*, n_runs: int, seed: int, env: dict[str, str] | None = None):
        study = generate_study(
            fake_ena, None, n_samples=n_runs, n_runs=n_runs, library_strategy="AMPLICON",
            library_source="METAGENOMIC", seed=seed, private_owner=OWNER,
        )  # fmt: skip
        pipelines = pipelines_resource(results_base, env=env)
        update = {
            "public_dir": Path(pipelines.public_dir),
            "private_dir": Path(pipelines.private_dir),
            "public_url": "https://results.example.org",
            "private_accel_redirect": None,
        }
        monkeypatch.setattr(get_config(), "results", get_config().results.model_copy(update=update))
        slurm = SlurmResource(
            transport="embedded", work_dir=str(results_base / "slurm"), poll_interval_seconds=0.2
        )
        resources = {"ena": ena, "slurm": slurm, "pipelines": pipelines}
        partitions(study.accession)
        ingest = {"ops": {"ena_study": {"config": {"webin_owner": OWNER}}}}
        _materialize(instance, resources, study.accession, list(INGEST_ASSETS), ingest)
        return study.accession, resources

    return mirror


@pytest.fixture
def private_study(instance, mirror_private):
    """A private amplicon study of ``OWNER``, mirrored, analysed and summarised: its results
    under the private dir. Returns (accession, resources)."""
    key, resources = mirror_private(n_runs=3, seed=11)
    _materialize(
        instance,
        resources,
        key,
        [amplicon_analyses, study_summary],
        {"ops": {"amplicon_analyses": {"config": {"biome": BIOME}}}},
    )
    return key, resources


def test_a_released_studys_results_move_to_the_public_dir_once(
    instance, private_study, fake_ena
) -> None:
    key, resources = private_study
    pipelines = resources["pipelines"]
    private, public = Path(pipelines.private_dir), Path(pipelines.public_dir)
    study = Study.objects.get()
    assert study.is_private and study.webin_submitter == OWNER
    analyses = list(Analysis.objects.filter(status=AnalysisStatus.ANNOTATIONS_IMPORTED))
    assert len(analyses) == 3
    published = _files(private)
    assert published and not _files(public)
    assert any(path.startswith(f"{study.results_dir}/study-summaries/") for path in published)

    # While private: the owner downloads through the API; a re-ingest moves nothing.
    analysis = analyses[0]
    client = Client()
    owner = {"Authorization": f"Bearer {issue_token(OWNER).token}"}
    [download, *_] = client.get(f"{API}analyses/{analysis.accession}", headers=owner).json()[
        "downloads"
    ]
    assert download["url"].startswith(f"http://testserver{API}analyses/{analysis.accession}/")
    served = client.get(download["url"], headers=owner)
    assert served.status_code == 200
    assert client.get(download["url"]).status_code == 404
    still_private = _materialize(instance, resources, key, ena_ingest_job.selection)
    assert not _moved(still_private) and _files(private) == published

    # One summary was already rewritten under the public dir (a newer one: it must stay).
    newer = next(path for path in published if "/study-summaries/" in path)
    (public / newer).parent.mkdir(parents=True)
    (public / newer).write_bytes(b"newer summary\n")

    # ENA releases the study: the sync's re-ingest (the ena_ingest job) moves every result dir.
    fake_ena.set_public(key)
    released = _materialize(instance, resources, key, ena_ingest_job.selection)
    assert not Study.objects.get().is_private
    assert _moved(released)
    assert _files(public) == {**published, newer: b"newer summary\n"}
    assert not list(private.iterdir()), "empty dirs are pruned from the private dir"
    detail = client.get(f"{API}analyses/{analysis.accession}").json()
    public_download = next(d for d in detail["downloads"] if d["alias"] == download["alias"])
    relative = public_download["url"].removeprefix("https://results.example.org/")
    assert (public / relative).is_file()
    redirect = client.get(download["url"])
    assert redirect.status_code == 302 and redirect["Location"] == public_download["url"]

    # Again: nothing left to move, no job.
    again = _privacy_metadata(_materialize(instance, resources, key, [results_privacy]))
    assert not again[MOVED] and "slurm_job_id" not in again


def test_an_interrupted_move_is_finished_by_the_next_run(instance, private_study, fake_ena) -> None:
    key, resources = private_study
    pipelines = resources["pipelines"]
    private, public = Path(pipelines.private_dir), Path(pipelines.public_dir)
    published = _files(private)
    fake_ena.set_public(key)
    _materialize(instance, resources, key, [INGEST_ASSETS[0]])  # ena_study: now public
    # A move killed half-way: one analysis copied already, the source not yet removed.
    analysis = Analysis.objects.filter(status=AnalysisStatus.ANNOTATIONS_IMPORTED).first()
    source, destination = private / analysis.results_dir, public / analysis.results_dir
    shutil.copytree(source, destination)

    result = _materialize(instance, resources, key, [results_privacy])
    assert _moved(result)
    assert _files(public) == published
    assert not list(private.iterdir())
    assert not _moved(_materialize(instance, resources, key, [results_privacy]))


def test_a_public_study_with_nothing_private_needs_no_job(
    instance, private_study, fake_ena
) -> None:
    key, resources = private_study
    private = Path(resources["pipelines"].private_dir)
    shutil.rmtree(private)
    private.mkdir()
    fake_ena.set_public(key)
    _materialize(instance, resources, key, [INGEST_ASSETS[0]])
    result = _privacy_metadata(_materialize(instance, resources, key, [results_privacy]))
    assert not result[MOVED] and "slurm_job_id" not in result and not result["private"]


def test_a_study_ena_hides_again_has_its_results_taken_off_the_public_dir(
    instance, private_study, fake_ena
) -> None:
    key, resources = private_study
    pipelines = resources["pipelines"]
    private, public = Path(pipelines.private_dir), Path(pipelines.public_dir)
    published = _files(private)
    fake_ena.set_public(key)
    _materialize(instance, resources, key, ena_ingest_job.selection)
    assert _files(public) == published

    fake_ena.set_private(key, OWNER)  # ENA now shows it only to the data-hub account
    hidden = _materialize(instance, resources, key, ena_ingest_job.selection)
    assert Study.objects.get().is_private
    assert _moved(hidden)
    assert _files(private) == published and not list(public.iterdir())
    analysis = Analysis.objects.filter(status=AnalysisStatus.ANNOTATIONS_IMPORTED).first()
    route = f"{API}analyses/{analysis.accession}"
    assert Client().get(route).status_code == 404
    owner = {"Authorization": f"Bearer {issue_token(OWNER).token}"}
    [download, *_] = Client().get(route, headers=owner).json()["downloads"]
    assert Client().get(download["url"], headers=owner).status_code == 200


def test_results_published_after_the_release_go_straight_to_the_public_dir(
    instance, mirror_private
) -> None:
    # Each sample's pipeline takes 2 s: ENA releases the study while the chunk job runs.
    key, resources = mirror_private(n_runs=2, seed=12, env={"NEXTFLOW_STANDIN_SLEEP": "2"})
    pipelines = resources["pipelines"]

    def release_when_running() -> None:
        try:
            deadline = time.monotonic() + 60
            while not list(Path(pipelines.work_dir).rglob("samplesheet*.csv")):
                assert time.monotonic() < deadline, "the chunk never started"
                time.sleep(0.1)
            ena_models.Study.objects.filter(accession=key).update(is_private=False)
            propagate_visibility(list(ena_models.Study.objects.values_list("pk", flat=True)))
        finally:
            connection.close()

    releaser = threading.Thread(target=release_when_running)
    releaser.start()
    [amplicon_job] = [job for job in ANALYSIS_JOBS if job.name == "amplicon_analysis"]
    result = _materialize(
        instance,
        resources,
        key,
        amplicon_job.selection,
        {"ops": {"amplicon_analyses": {"config": {"biome": BIOME}}}},
    )
    releaser.join()
    assert not Study.objects.get().is_private
    # Published where the study now belongs, not where it was when the step started: the job's
    # closing privacy check had nothing to move.
    assert not _moved(result)
    private, public = Path(pipelines.private_dir), Path(pipelines.public_dir)
    assert not _files(private)
    analyses = Analysis.objects.filter(status=AnalysisStatus.ANNOTATIONS_IMPORTED)
    assert analyses.count() == 2
    for analysis in analyses:
        assert (public / analysis.results_dir).is_dir()
