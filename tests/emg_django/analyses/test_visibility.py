"""Privacy, suppression and the Webin owner propagate from the ENA study to everything below."""

from __future__ import annotations

import pytest

from emg_django.analyses.choices import ExperimentType, PipelineVersion
from emg_django.analyses.models import Analysis, Assembly, Run, Sample, Study
from emg_django.analyses.visibility import propagate_visibility
from emg_django.ena import models as ena_models
from tests.factories import make_analysis, make_assembly, make_run, make_sample, make_study

pytestmark = pytest.mark.django_db


def _tree(accession: str) -> Study:
    study = make_study(accession=accession)
    sample = make_sample(study, accession=f"SAMEA{accession[5:]}")
    run = make_run(
        study, sample, accession=f"ERR{accession[5:]}", experiment_type=ExperimentType.METAGENOMIC
    )
    assembly = make_assembly(study, [run], accession=f"ERZ{accession[5:]}")
    make_analysis(study, run=run, pipeline_version=PipelineVersion.V6)
    make_analysis(study, assembly=assembly, pipeline_version=PipelineVersion.V6)
    return study


def _visibility(study: Study) -> set[tuple[object, ...]]:
    """The distinct visibility values of every object under ``study``."""
    querysets = (
        ena_models.Sample.objects.filter(study=study.ena_study_id),
        Study.objects.filter(pk=study.pk),
        Sample.objects.filter(studies=study),
        Run.objects.filter(study=study),
        Assembly.objects.filter(study=study),
        Analysis.objects.filter(study=study),
    )
    rows = set()
    for qs in querysets:
        assert qs.exists()
        rows |= set(qs.values_list("is_private", "is_suppressed", "webin_submitter"))
    return rows


def test_curator_edit_of_the_ena_study_reaches_every_object() -> None:
    study = _tree("PRJEB100")
    ena_study = study.ena_study
    ena_study.is_private = True
    ena_study.webin_submitter = "Webin-123"
    ena_study.save()
    assert _visibility(study) == {(True, False, "Webin-123")}
    for model in (Study, Sample, Run, Assembly, Analysis):
        assert not model.objects.public().exists()
        assert model.objects.visible_to("Webin-123").exists()
        assert not model.objects.visible_to("Webin-999").exists()

    ena_study.is_private = False
    ena_study.is_suppressed = True
    ena_study.save()
    assert _visibility(study) == {(False, True, "Webin-123")}
    assert not Run.objects.visible_to("Webin-123").exists()
    assert Run.objects.visible_to(None, is_admin=True).count() == 1


def test_bulk_writes_are_followed_by_an_explicit_propagation() -> None:
    study = _tree("PRJEB200")
    untouched = _tree("PRJEB300")
    ena_models.Study.objects.filter(pk=study.ena_study_id).update(is_suppressed=True)
    assert _visibility(study) != {(False, True, None)}

    changed = propagate_visibility([study.ena_study_id])

    assert changed == 7  # ENA sample, study, sample, run, assembly and two analyses
    assert _visibility(study) == {(False, True, None)}
    assert _visibility(untouched) == {(False, False, None)}
    assert propagate_visibility([study.ena_study_id]) == 0
