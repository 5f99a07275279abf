"""Consistent object graphs for tests: ENA mirrors, MGnify objects, visibility propagated.

Plain functions, no factory library: each creates one object (and the ENA mirror it needs) with
the visibility of the study above it, so tests see what the ingest assets would write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from emg_django.analyses.choices import (
    AnalysisStatus,
    DownloadFileType,
    DownloadType,
    ExperimentType,
    PipelineVersion,
)
from emg_django.analyses.models import Analysis, Assembly, Biome, Run, Sample, Study
from emg_django.ena import models as ena_models

DEFAULT_BIOME = "root:Environmental:Aquatic:Marine"
#: Webin owner of private objects when a test does not name one.
DEFAULT_OWNER = "Webin-1000"


def make_biome(lineage: str = DEFAULT_BIOME) -> Biome:
    """The biome of ``lineage``, with its ancestors (idempotent)."""
    return Biome.for_lineage(lineage)


def _visibility(private: bool, suppressed: bool, owner: str | None) -> dict[str, Any]:
    if private and owner is None:
        owner = DEFAULT_OWNER
    return {"is_private": private, "is_suppressed": suppressed, "webin_submitter": owner}


def make_study(
    accession: str = "PRJEB1000",
    secondary: str | None = None,
    title: str | None = None,
    biome: Biome | str | None = DEFAULT_BIOME,
    *,
    private: bool = False,
    suppressed: bool = False,
    owner: str | None = None,
    results_dir: str | None = None,
    downloads: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Study:
    """An ENA study and its MGnify study (MGYS), sharing visibility.

    :param accession: the ENA primary accession (PRJ…).
    :param secondary: the secondary accession (ERP…); derived from ``accession`` when ``None``.
    :param biome: a :class:`Biome`, a lineage, or ``None`` for no biome.
    :param private: embargoed; owned by ``owner`` (``DEFAULT_OWNER`` when not given).
    """
    secondary = (
        secondary if secondary is not None else "ERP" + "".join(c for c in accession if c.isdigit())
    )
    title = title if title is not None else f"Study {accession}"
    visibility = _visibility(private, suppressed, owner)
    ena_study = ena_models.Study.objects.create(
        accession=accession,
        additional_accessions=[secondary] if secondary else [],
        title=title,
        metadata={"study_title": title},
        **visibility,
    )
    if isinstance(biome, str):
        biome = make_biome(biome)
    return Study.objects.create(
        ena_study=ena_study,
        ena_accessions=[accession, secondary] if secondary else [accession],
        title=title,
        biome=biome,
        results_dir=results_dir if results_dir is not None else f"{accession[:7]}/{accession}",
        downloads=downloads or [],
        metadata=metadata or {},
        **visibility,
    )


def make_sample(
    study: Study,
    accession: str = "SAMEA1000",
    *,
    secondary: str | None = None,
    title: str | None = None,
    biome: Biome | str | None = None,
    other_studies: Iterable[Study] = (),
    metadata: dict[str, Any] | None = None,
) -> Sample:
    """An ENA sample under ``study``'s ENA study and its MGnify sample, linked to ``study``.

    :param biome: defaults to the study's biome.
    """
    title = title if title is not None else f"Sample {accession}"
    visibility = study.visibility()
    ena_sample = ena_models.Sample.objects.create(
        study=study.ena_study,
        accession=accession,
        additional_accessions=[secondary] if secondary else [],
        title=title,
        **visibility,
    )
    if isinstance(biome, str):
        biome = make_biome(biome)
    sample = Sample.objects.create(
        ena_sample=ena_sample,
        accession=accession,
        ena_accessions=[accession, secondary] if secondary else [accession],
        sample_title=title,
        biome=biome if biome is not None else study.biome,
        metadata=metadata or {},
        **visibility,
    )
    sample.studies.add(study, *other_studies)
    return sample


def make_run(
    study: Study,
    sample: Sample,
    accession: str = "ERR1000",
    experiment_type: ExperimentType | str = ExperimentType.METAGENOMIC,
    *,
    instrument_platform: str = "ILLUMINA",
    instrument_model: str = "Illumina NovaSeq 6000",
    **fields: Any,
) -> Run:
    """A run of ``sample`` in ``study`` (extra model fields pass through)."""
    return Run.objects.create(
        accession=accession,
        study=study,
        sample=sample,
        experiment_type=experiment_type,
        instrument_platform=instrument_platform,
        instrument_model=instrument_model,
        **study.visibility(),
        **fields,
    )


def make_assembly(
    study: Study,
    runs: Sequence[Run] = (),
    accession: str = "ERZ1000",
    *,
    sample: Sample | None = None,
    reads_study: Study | None = None,
    assembler_name: str = "metaspades",
    assembler_version: str = "3.15.3",
    **fields: Any,
) -> Assembly:
    """An assembly of ``runs`` filed under ``study`` (sample defaults to the first run's)."""
    if sample is None and runs:
        sample = runs[0].sample
    assembly = Assembly.objects.create(
        accession=accession,
        study=study,
        sample=sample,
        reads_study=reads_study,
        assembler_name=assembler_name,
        assembler_version=assembler_version,
        **study.visibility(),
        **fields,
    )
    if runs:
        assembly.runs.set(runs)
    return assembly


def make_download(
    alias: str = "ERR1000_SILVA-SSU.tsv", path: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A valid download file entry (see :class:`emg_django.analyses.schemas.DownloadFile`)."""
    return {
        "alias": alias,
        "path": path or f"taxonomy-summary/SILVA-SSU/{alias}",
        "file_type": DownloadFileType.TSV.value,
        "download_type": DownloadType.TAXONOMIC_ANALYSIS.value,
        "download_group": "taxonomies.closed_reference.ssu",
        "short_description": "SSU taxonomy",
        "long_description": "Organism counts against SILVA SSU",
        "file_size_bytes": 4096,
        **fields,
    }


def make_analysis(
    study: Study,
    run: Run | None = None,
    assembly: Assembly | None = None,
    pipeline_version: PipelineVersion | str = PipelineVersion.V6,
    status: AnalysisStatus | str = AnalysisStatus.COMPLETED,
    annotations: dict[str, list[dict[str, Any]]] | None = None,
    downloads: list[dict[str, Any]] | None = None,
    *,
    experiment_type: ExperimentType | str | None = None,
    **fields: Any,
) -> Analysis:
    """An analysis (MGYA) of a run or an assembly of ``study``.

    :param experiment_type: defaults to the run's, or ``ASSEM`` for an assembly.
    """
    if experiment_type is None:
        experiment_type = (
            run.experiment_type
            if run is not None
            else (ExperimentType.ASSEMBLY if assembly is not None else ExperimentType.UNKNOWN)
        )
    subject = run or assembly
    sample = subject.sample if subject is not None else None
    return Analysis.objects.create(
        study=study,
        run=run,
        assembly=assembly,
        sample=sample,
        experiment_type=experiment_type,
        pipeline_version=pipeline_version,
        status=status,
        annotations=annotations or {},
        downloads=downloads or [],
        results_dir=fields.pop(
            "results_dir", f"{study.results_dir}/analyses/{subject.accession if subject else 'x'}"
        ),
        **study.visibility(),
        **fields,
    )
