"""The biome a curator gives at launch: validated, set on the study, required when missing."""

from __future__ import annotations

import logging

import dagster as dg
import pytest

from emg_assets.analyses.assets import ensure_biome
from emg_django.analyses.models import Biome, Study
from tests.factories import make_study

pytestmark = pytest.mark.django_db
log = logging.getLogger(__name__)


def test_a_given_biome_is_validated_and_set() -> None:
    study = make_study(accession="PRJEB8001", biome=None)
    with pytest.raises(dg.Failure, match="root"):
        ensure_biome(study, "Environmental::Soil", log)
    assert Study.objects.get(pk=study.pk).biome is None
    assert not Biome.objects.filter(lineage__startswith="Environmental").exists()

    assert (
        ensure_biome(study, "root:Environmental:Terrestrial:Soil", log)
        == "root:Environmental:Terrestrial:Soil"
    )
    assert Study.objects.get(pk=study.pk).biome.lineage == "root:Environmental:Terrestrial:Soil"


def test_no_biome_anywhere_fails_fast() -> None:
    study = make_study(accession="PRJEB8002", biome=None)
    with pytest.raises(dg.Failure, match="has no biome"):
        ensure_biome(study, None, log)
    curated = make_study(accession="PRJEB8003", biome="root:Engineered:Wastewater")
    assert ensure_biome(curated, None, log) == "root:Engineered:Wastewater"
