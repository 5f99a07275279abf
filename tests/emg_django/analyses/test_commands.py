"""Management commands: the curator account and the demo data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from emg_django.analyses.choices import AnalysisStatus, ExperimentType
from emg_django.analyses.models import Analysis, Biome, Run, Study
from emg_django.config import ResultsConfig

pytestmark = pytest.mark.django_db


def test_create_curator_reads_the_password_from_env_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMG_CURATOR_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="EMG_CURATOR_PASSWORD"):
        call_command("create_curator", "--username", "ann")
    monkeypatch.setenv("EMG_CURATOR_PASSWORD", "first-password-1")
    call_command("create_curator", "--username", "ann", "--email", "ann@example.org")
    monkeypatch.setenv("EMG_CURATOR_PASSWORD", "second-password-2")
    call_command("create_curator", "--username", "ann")
    user = get_user_model().objects.get(username="ann")
    assert user.is_staff and not user.is_superuser
    assert user.check_password("second-password-2")
    assert user.has_perm("analyses.change_study") and user.has_perm("ena.change_study")
    assert not user.has_perm("analyses.delete_study")


def test_demo_data_covers_every_kind_of_object_and_is_idempotent(results: ResultsConfig) -> None:
    call_command("load_demo_data", "--if-empty")
    counts = {model: model.objects.count() for model in (Study, Run, Analysis, Biome)}
    call_command("load_demo_data")
    call_command("load_demo_data", "--if-empty")
    assert {model: model.objects.count() for model in counts} == counts
    kinds = set(Run.objects.values_list("experiment_type", flat=True))
    assert {
        ExperimentType.AMPLICON,
        ExperimentType.METAGENOMIC,
        ExperimentType.METATRANSCRIPTOMIC,
    } <= kinds
    assert Analysis.objects.filter(assembly__isnull=False).exists()
    assert Study.objects.filter(is_private=True).count() == 1
    assert Run.objects.filter(is_private=True).exists()
    assert Study.objects.exclude(biome=None).values("biome").distinct().count() >= 3
    imported = Analysis.objects.with_annotations().filter(
        status=AnalysisStatus.ANNOTATIONS_IMPORTED
    )
    assert all(a.annotations and a.downloads for a in imported)
    # Every download is a file where publishing would have put it, of the size it says.
    for analysis in Analysis.objects.select_related("study"):
        root = results.private_dir if analysis.study.is_private else results.public_dir
        for download in analysis.downloads:
            file = root / analysis.results_dir / download["path"]
            assert file.stat().st_size == download["file_size_bytes"], file
