"""The demo data set: every kind of object, so a newcomer sees a living API and admin at once.

Two studies are real ENA studies (accessions and run details from ENA); the others are marked
``Demo:`` in their titles. Loading is idempotent: objects are found by accession first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from emg_django.analyses.choices import (
    AnalysisStatus,
    AnnotationType,
    DownloadFileType,
    DownloadType,
    ExperimentType,
    LibraryLayout,
    PipelineVersion,
)
from emg_django.analyses.experiment_types import infer_experiment_type
from emg_django.analyses.models import Analysis, Assembly, Biome, Run, Sample, Study
from emg_django.analyses.visibility import propagate_visibility
from emg_django.config import get_config
from emg_django.ena import models as ena_models

DEMO_PRIVATE_OWNER = "Webin-99999"


@dataclasses.dataclass(frozen=True)
class DemoRun:
    accession: str
    sample: str
    strategy: str
    source: str
    layout: LibraryLayout
    platform: str
    model: str


@dataclasses.dataclass(frozen=True)
class DemoStudy:
    accession: str
    secondary: str
    title: str
    biome: str
    runs: tuple[DemoRun, ...]
    private: bool = False
    assembly: str | None = None


STUDIES = (
    DemoStudy(
        "PRJNA362212",
        "SRP125161",
        "Guaymas Basin hydrothermal sediment metagenomes",
        "root:Environmental:Aquatic:Marine:Hydrothermal vents",
        (
            DemoRun(
                "SRR6301444",
                "SAMN06251743",
                "WGS",
                "METAGENOMIC",
                LibraryLayout.PAIRED,
                "ILLUMINA",
                "Illumina HiSeq 2500",
            ),
        ),
    ),
    DemoStudy(
        "PRJEB41657",
        "ERP125469",
        "HoloFood salmon gut metagenomes",
        "root:Host-associated:Fish:Digestive system",
        (
            DemoRun(
                "ERR4918394",
                "SAMEA7687881",
                "WGS",
                "METAGENOMIC",
                LibraryLayout.PAIRED,
                "DNBSEQ",
                "DNBSEQ-G400",
            ),
            DemoRun(
                "ERR4918397",
                "SAMEA7687882",
                "WGS",
                "METAGENOMIC",
                LibraryLayout.PAIRED,
                "DNBSEQ",
                "DNBSEQ-G400",
            ),
            DemoRun(
                "ERR4918398",
                "SAMEA7678309",
                "RNA-Seq",
                "METATRANSCRIPTOMIC",
                LibraryLayout.PAIRED,
                "DNBSEQ",
                "DNBSEQ-G400",
            ),
        ),
        assembly="ERZ2626953",
    ),
    DemoStudy(
        "PRJEB99901",
        "ERP999901",
        "Demo: 16S rRNA amplicons of grassland soil",
        "root:Environmental:Terrestrial:Soil:Grasslands",
        (
            DemoRun(
                "ERR9999011",
                "SAMEA99999011",
                "AMPLICON",
                "METAGENOMIC",
                LibraryLayout.PAIRED,
                "ILLUMINA",
                "Illumina MiSeq",
            ),
            DemoRun(
                "ERR9999012",
                "SAMEA99999012",
                "AMPLICON",
                "METAGENOMIC",
                LibraryLayout.SINGLE,
                "ILLUMINA",
                "Illumina MiSeq",
            ),
        ),
    ),
    DemoStudy(
        "PRJEB99902",
        "ERP999902",
        "Demo: embargoed wastewater metagenomes (private)",
        "root:Engineered:Wastewater",
        (
            DemoRun(
                "ERR9999021",
                "SAMEA99999021",
                "WGS",
                "METAGENOMIC",
                LibraryLayout.PAIRED,
                "ILLUMINA",
                "Illumina NovaSeq 6000",
            ),
        ),
        private=True,
    ),
)

SSU_TAXONOMY = (
    ("sk__Bacteria;k__;p__Pseudomonadota;c__Gammaproteobacteria", 1532),
    ("sk__Bacteria;k__;p__Bacteroidota;c__Bacteroidia", 811),
    ("sk__Bacteria;k__;p__Bacillota;c__Clostridia", 402),
    ("sk__Archaea;k__;p__Thermoproteota", 57),
)
PFAMS = (
    ("PF00005", "ABC transporter", 210),
    ("PF00072", "Response regulator receiver domain", 118),
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _fastq_files(run: DemoRun) -> list[dict[str, object]]:
    prefix = f"ftp.sra.ebi.ac.uk/vol1/fastq/{run.accession[:6]}/{run.accession}/{run.accession}"
    reads = ("_1", "_2") if run.layout == LibraryLayout.PAIRED else ("",)
    return [
        {
            "url": f"{prefix}{read}.fastq.gz",
            "md5": _md5(run.accession + read),
            "size_bytes": 1_000_000 + i,
        }
        for i, read in enumerate(reads)
    ]


QUALITY_CONTROL = {
    "before_filtering": {"total_reads": 120_000},
    "after_filtering": {"total_reads": 98_765},
}


def _result_files(run_accession: str, experiment_type: ExperimentType) -> dict[str, str]:
    """The demo analysis's result files (path under its results dir → content), in the layout
    of the pipelines' outputs."""
    ssu = "".join(f"{organism}\t{count}\n" for organism, count in SSU_TAXONOMY)
    files = {
        f"qc/{run_accession}_qc_summary.json": json.dumps(QUALITY_CONTROL, indent=2) + "\n",
        f"taxonomy-summary/SILVA-SSU/{run_accession}_SILVA-SSU.tsv": (
            f"#SampleID\t{run_accession}\n{ssu}"
        ),
    }
    if experiment_type != ExperimentType.AMPLICON:
        pfams = "".join(f"{acc}\t{desc}\t{count}\n" for acc, desc, count in PFAMS)
        files[f"function-summary/pfam/{run_accession}_pfam.tsv"] = (
            f"pfam\tdescription\t{run_accession}\n{pfams}"
        )
    return files


def _downloads(run_accession: str, files: dict[str, str]) -> list[dict[str, object]]:
    """The download entries of the demo result ``files`` (their sizes as written)."""
    described = {
        "qc_summary.json": (
            DownloadFileType.JSON,
            DownloadType.QUALITY_CONTROL,
            "quality_control",
            "QC summary",
            "Read counts before and after quality control",
        ),
        "SILVA-SSU.tsv": (
            DownloadFileType.TSV,
            DownloadType.TAXONOMIC_ANALYSIS,
            "taxonomies.closed_reference.ssu",
            "SSU taxonomy",
            "Organism counts against SILVA SSU",
        ),
        "pfam.tsv": (
            DownloadFileType.TSV,
            DownloadType.FUNCTIONAL_ANALYSIS,
            "functional_annotation.pfam",
            "Pfam summary",
            "Counts of Pfam domains",
        ),
    }
    downloads: list[dict[str, object]] = []
    for path, content in files.items():
        alias = path.rsplit("/", 1)[-1]
        file_type, download_type, group, short, long = described[
            alias.removeprefix(f"{run_accession}_")
        ]
        downloads.append(
            {
                "alias": alias,
                "path": path,
                "file_type": file_type,
                "download_type": download_type,
                "download_group": group,
                "short_description": short,
                "long_description": long,
                "file_size_bytes": len(content.encode()),
            }
        )
    return downloads


def _write(root: Path, results_dir: str, files: dict[str, str]) -> None:
    for path, content in files.items():
        target = root / results_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)


def _annotations(experiment_type: ExperimentType) -> dict[str, list[dict[str, object]]]:
    annotations: dict[str, list[dict[str, object]]] = {
        AnnotationType.TAXONOMIES_SSU: [{"organism": org, "count": n} for org, n in SSU_TAXONOMY],
    }
    if experiment_type != ExperimentType.AMPLICON:
        annotations[AnnotationType.PFAMS] = [
            {"accession": acc, "description": desc, "count": n} for acc, desc, n in PFAMS
        ]
    return annotations


@transaction.atomic
def load_demo_data() -> dict[str, int]:
    """Create (or find) the demo objects.

    :return: how many of each kind of object the data set holds.
    """
    now = timezone.now()
    for spec in STUDIES:
        _load_study(spec, now)
    return {
        "studies": Study.objects.count(),
        "samples": Sample.objects.count(),
        "runs": Run.objects.count(),
        "assemblies": Assembly.objects.count(),
        "analyses": Analysis.objects.count(),
        "biomes": Biome.objects.count(),
    }


def _load_study(spec: DemoStudy, now: object) -> None:
    owner = DEMO_PRIVATE_OWNER if spec.private else None
    ena_study, _ = ena_models.Study.objects.update_or_create(
        accession=spec.accession,
        defaults={
            "additional_accessions": [spec.secondary],
            "title": spec.title,
            "is_private": spec.private,
            "webin_submitter": owner,
            "fetched_at": now,
            "metadata": {"study_title": spec.title, "secondary_study_accession": spec.secondary},
        },
    )
    biome = Biome.for_lineage(spec.biome)
    study, _ = Study.objects.update_or_create(
        ena_study=ena_study,
        defaults={
            "ena_accessions": [spec.accession, spec.secondary],
            "title": spec.title,
            "biome": biome,
            "results_dir": f"{spec.secondary[:6]}/{spec.secondary}",
        },
    )
    runs = []
    for run_spec in spec.runs:
        ena_sample, _ = ena_models.Sample.objects.update_or_create(
            accession=run_spec.sample,
            defaults={
                "study": ena_study,
                "title": f"{spec.title}: sample {run_spec.sample}",
                "fetched_at": now,
            },
        )
        sample, _ = Sample.objects.update_or_create(
            accession=run_spec.sample,
            defaults={
                "ena_sample": ena_sample,
                "ena_accessions": [run_spec.sample],
                "sample_title": ena_sample.title,
                "biome": biome,
            },
        )
        sample.studies.add(study)
        experiment_type = infer_experiment_type(run_spec.strategy, run_spec.source)
        run, _ = Run.objects.update_or_create(
            accession=run_spec.accession,
            defaults={
                "study": study,
                "sample": sample,
                "experiment_type": experiment_type,
                "instrument_platform": run_spec.platform,
                "instrument_model": run_spec.model,
                "library_strategy": run_spec.strategy,
                "library_source": run_spec.source,
                "library_layout": run_spec.layout,
                "fastq_files": _fastq_files(run_spec),
            },
        )
        runs.append(run)
        _analysis(
            study,
            sample,
            run_accession=run.accession,
            run=run,
            experiment_type=experiment_type,
            private=spec.private,
        )
    if spec.assembly:
        assembly, _ = Assembly.objects.update_or_create(
            accession=spec.assembly,
            defaults={
                "study": study,
                "sample": runs[0].sample,
                "assembler_name": "metaspades",
                "assembler_version": "3.15.3",
            },
        )
        assembly.runs.set(runs[:1])
        _analysis(
            study,
            runs[0].sample,
            run_accession=spec.assembly,
            assembly=assembly,
            experiment_type=ExperimentType.ASSEMBLY,
            private=spec.private,
        )
    # Everything under the study takes its visibility from the ENA study.
    propagate_visibility([ena_study.pk])


def _analysis(
    study: Study,
    sample: Sample,
    *,
    run_accession: str,
    experiment_type: ExperimentType,
    private: bool,
    run: Run | None = None,
    assembly: Assembly | None = None,
) -> None:
    files = _result_files(run_accession, experiment_type)
    results_dir = f"{study.results_dir}/analyses/{run_accession}"
    # Where publishing puts a study's results: downloads work under `make run` (public files
    # from the API's /results/ in debug, private ones through the download route).
    results = get_config().results
    _write(results.private_dir if private else results.public_dir, results_dir, files)
    Analysis.objects.update_or_create(
        run=run,
        assembly=assembly,
        pipeline_version=PipelineVersion.V6,
        defaults={
            "study": study,
            "sample": sample,
            "experiment_type": experiment_type,
            "status": AnalysisStatus.ANNOTATIONS_IMPORTED,
            "quality_control": QUALITY_CONTROL,
            "annotations": _annotations(experiment_type),
            "downloads": _downloads(run_accession, files),
            "results_dir": results_dir,
        },
    )
