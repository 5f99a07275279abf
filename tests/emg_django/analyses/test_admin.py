"""The curators' admin: staff only; every page renders; search by any accession."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from emg_django.analyses.demo import load_demo_data
from emg_django.analyses.models import Analysis, Assembly, Biome, Run, Sample, Study
from emg_django.ena import models as ena_models

pytestmark = pytest.mark.django_db

ADMIN_MODELS = (Biome, Study, Sample, Run, Assembly, Analysis, ena_models.Study, ena_models.Sample)


@pytest.fixture
def demo() -> None:
    load_demo_data()


@pytest.fixture
def curator_client(monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setenv("EMG_CURATOR_PASSWORD", "a-long-curator-password")
    call_command("create_curator", "--username", "curator")
    client = Client()
    assert client.login(username="curator", password="a-long-curator-password")
    return client


def _urls() -> list[str]:
    urls = []
    for model in ADMIN_MODELS:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(
            reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change", args=[model.objects.first().pk]
            )
        )
    return urls


def test_every_page_renders_for_a_curator(demo: None, curator_client: Client) -> None:
    for url in _urls():
        response = curator_client.get(url)
        assert response.status_code == 200, url


def test_anonymous_and_non_staff_users_are_refused(demo: None) -> None:
    get_user_model().objects.create_user("reader", password="a-long-reader-password")
    member = Client()
    assert member.login(username="reader", password="a-long-reader-password")
    for client in (Client(), member):
        for url in _urls():
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("admin:login")), url


def test_curators_can_change_curation_but_not_what_comes_from_ena(
    demo: None, curator_client: Client
) -> None:
    study = Study.objects.get(ena_accessions__has_accession="PRJEB41657")
    page = curator_client.get(
        reverse("admin:analyses_study_change", args=[study.pk])
    ).content.decode()
    assert 'name="biome"' in page
    assert 'name="watchers"' in page
    assert 'name="is_private"' not in page
    ena_page = curator_client.get(
        reverse("admin:ena_study_change", args=[study.ena_study_id])
    ).content.decode()
    assert 'name="is_suppressed"' in ena_page


def test_search_analyses_by_any_accession(demo: None, curator_client: Client) -> None:
    url = reverse("admin:analyses_analysis_changelist")
    study = Study.objects.get(ena_accessions__has_accession="PRJEB41657")
    analysis = Analysis.objects.get(run__accession="ERR4918397")
    expectations = {
        "ERP125469": set(study.analyses.values_list("pk", flat=True)),
        study.accession: set(study.analyses.values_list("pk", flat=True)),
        analysis.accession: {analysis.pk},
        "ERR4918397": {analysis.pk},
        "ERZ2626953": set(
            Analysis.objects.filter(assembly__accession="ERZ2626953").values_list("pk", flat=True)
        ),
    }
    for term, expected in expectations.items():
        response = curator_client.get(url, {"q": term})
        assert response.status_code == 200
        shown = {obj.pk for obj in response.context["cl"].result_list}
        assert shown == expected, term
    assert len(expectations["ERP125469"]) == 4


def test_status_is_shown_at_a_glance(demo: None, curator_client: Client) -> None:
    Analysis.objects.filter(run__accession="ERR4918397").update(
        status="failed", status_reason="OOM in task FASTP"
    )
    page = curator_client.get(
        reverse("admin:analyses_analysis_changelist"), {"status__exact": "failed"}
    )
    html = page.content.decode()
    assert "Failed" in html and "OOM in task FASTP" in html
    assert len(page.context["cl"].result_list) == 1
