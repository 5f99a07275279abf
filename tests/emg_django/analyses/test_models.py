"""The data model: accessions, lookups by any ENA accession, biomes, JSON schemas, constraints."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from emg_django.analyses.choices import ExperimentType, PipelineVersion
from emg_django.analyses.experiment_types import infer_experiment_type
from emg_django.analyses.models import Analysis, Biome, Run, Study
from emg_django.core.accessions import MGnifyPrefix, format_accession, parse_accession
from tests.factories import make_analysis, make_assembly, make_run, make_sample, make_study


def test_mgnify_accessions_round_trip() -> None:
    assert format_accession(MGnifyPrefix.STUDY, 42) == "MGYS00000042"
    assert format_accession(MGnifyPrefix.ANALYSIS, 123_456_789) == "MGYA123456789"
    assert parse_accession(MGnifyPrefix.STUDY, "mgys00000042") == 42
    for bad in ("MGYS42", "MGYA00000042", "MGYS0000004x", "", "MGYS00000042;DROP"):
        assert parse_accession(MGnifyPrefix.STUDY, bad) is None


@pytest.mark.parametrize(
    ("strategy", "source", "expected"),
    [
        ("AMPLICON", "METAGENOMIC", ExperimentType.AMPLICON),
        ("WGS", "METAGENOMIC", ExperimentType.METAGENOMIC),
        ("RNA-Seq", "METATRANSCRIPTOMIC", ExperimentType.METATRANSCRIPTOMIC),
        ("RNA-Seq", "TRANSCRIPTOMIC", ExperimentType.METATRANSCRIPTOMIC),
        ("WGS", "GENOMIC", ExperimentType.METAGENOMIC),
        ("Hi-C", "GENOMIC", ExperimentType.UNKNOWN),
        ("", None, ExperimentType.UNKNOWN),
    ],
)
def test_experiment_type_from_library(
    strategy: str, source: str | None, expected: ExperimentType
) -> None:
    assert infer_experiment_type(strategy, source) == expected


def test_curator_policy_overrides_the_defaults() -> None:
    policy = {("WGS", "GENOMIC"): ExperimentType.UNKNOWN, ("OTHER", None): ExperimentType.AMPLICON}
    assert infer_experiment_type("WGS", "GENOMIC", policy) == ExperimentType.UNKNOWN
    assert infer_experiment_type("OTHER", "METAGENOMIC", policy) == ExperimentType.AMPLICON
    assert infer_experiment_type("WGS", "METAGENOMIC", policy) == ExperimentType.METAGENOMIC


@pytest.mark.django_db
def test_study_accessions_and_lookup_by_any_ena_accession() -> None:
    study = make_study(accession="PRJEB41657", secondary="ERP125469")
    assert study.accession == f"MGYS{study.pk:08d}"
    assert study.first_accession == "PRJEB41657"
    for accession in ("PRJEB41657", "ERP125469"):
        assert Study.objects.get(ena_accessions__has_accession=accession) == study
    assert not Study.objects.filter(ena_accessions__has_accession="ERP1254").exists()
    assert Study.objects.get(pk=Study.pk_from_accession(study.accession)) == study


@pytest.mark.django_db
def test_biome_lineage_prefix() -> None:
    marine = Biome.for_lineage("root:Environmental:Aquatic:Marine")
    Biome.for_lineage("root:Environmental:Aquatic:Freshwater")
    Biome.for_lineage("root:Environmental:AquaticOther")
    assert marine.depth == 4 and marine.biome_name == "Marine"
    assert Biome.objects.filter(lineage="root:Environmental").exists()
    under = set(Biome.objects.under("root:Environmental:Aquatic").values_list("lineage", flat=True))
    assert under == {
        "root:Environmental:Aquatic",
        "root:Environmental:Aquatic:Marine",
        "root:Environmental:Aquatic:Freshwater",
    }
    with pytest.raises(ValidationError):
        Biome(lineage="Environmental::Marine").full_clean()
    with pytest.raises(ValidationError, match="root"):
        Biome.for_lineage("Environmental:Aquatic")
    assert not Biome.objects.filter(lineage__startswith="Environmental").exists()


@pytest.mark.django_db
def test_json_fields_are_validated_by_their_schema() -> None:
    study = make_study(accession="PRJEB1")
    sample = make_sample(study, accession="SAMEA1")
    run = make_run(study, sample, accession="ERR1", experiment_type=ExperimentType.METAGENOMIC)
    run.fastq_files = [{"url": "ftp.sra.ebi.ac.uk/vol1/fastq/ERR1_1.fastq.gz", "md5": "not-an-md5"}]
    with pytest.raises(ValidationError, match="md5"), transaction.atomic():
        run.save()
    analysis = make_analysis(study, run=run, pipeline_version=PipelineVersion.V6)
    analysis.downloads = [
        {"alias": "x.tsv", "path": "x.tsv", "file_type": "tsv", "download_type": "Nonsense"}
    ]
    with pytest.raises(ValidationError, match="download_type"), transaction.atomic():
        analysis.save()
    analysis.annotations = {"taxonomies__ssu": [{"organism": "sk__Bacteria", "count": -1}]}
    with pytest.raises(ValidationError, match="count"), transaction.atomic():
        analysis.save()


@pytest.mark.django_db
def test_annotations_are_deferred_by_default() -> None:
    study = make_study(accession="PRJEB1")
    sample = make_sample(study, accession="SAMEA1")
    run = make_run(study, sample, accession="ERR1", experiment_type=ExperimentType.METAGENOMIC)
    make_analysis(
        study,
        run=run,
        pipeline_version=PipelineVersion.V6,
        annotations={"pfams": [{"accession": "PF00005", "count": 3}]},
    )
    assert "annotations" in Analysis.objects.get().get_deferred_fields()
    loaded = Analysis.objects.with_annotations().get()
    assert loaded.get_deferred_fields() == set()
    assert loaded.annotations["pfams"][0]["count"] == 3


@pytest.mark.django_db
def test_one_analysis_per_run_or_assembly_and_pipeline_version() -> None:
    study = make_study(accession="PRJEB1")
    sample = make_sample(study, accession="SAMEA1")
    run = make_run(study, sample, accession="ERR1", experiment_type=ExperimentType.AMPLICON)
    assembly = make_assembly(study, [run], accession="ERZ1")
    make_analysis(study, run=run, pipeline_version=PipelineVersion.V6)
    make_analysis(study, run=run, pipeline_version=PipelineVersion.V5)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Analysis.objects.create(study=study, run=run, pipeline_version=PipelineVersion.V6)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Analysis.objects.create(
            study=study, run=run, assembly=assembly, pipeline_version=PipelineVersion.V4
        )
    assert Run.objects.get().analyses.count() == 2
