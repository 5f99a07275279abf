"""The MGnify v6 analysis pipelines: what each takes, its samplesheet, and its output layout.

One :class:`Pipeline` per Nextflow pipeline, as data. The layouts are those the pipelines
document and that MGnify's own importer (EBI-Metagenomics/emgapi-v2, ``workflows/``) reads:

- amplicon-pipeline v6: per run ``<outdir>/<RUN>/`` with ``qc/``, ``sequence-categorisation/``,
  ``amplified-region-inference/``, ``primer-identification/``, ``asv/`` and
  ``taxonomy-summary/<DB>/`` (SILVA-SSU, SILVA-LSU, PR2, UNITE, ITSoneDB: ``<RUN>.html``,
  ``<RUN>_<DB>.mseq``, ``<RUN>_<DB>.tsv``, ``<RUN>_<DB>.txt``; DADA2-SILVA, DADA2-PR2:
  ``<RUN>_<DB>.mseq``, ``<RUN>_<region>_<DB>_asv_krona_counts.txt``, ``<RUN>_<region>.html``);
  verdicts in ``<outdir>/qc_passed_runs.csv`` (``run,all_results|no_asvs``) and
  ``<outdir>/qc_failed_runs.csv`` (``run,seqfu_fail|sfxhd_fail|libstrat_fail|no_reads``).
- raw-reads-analysis-pipeline v6: per run ``qc/`` (``<RUN>_qc.fastp.json``,
  ``<RUN>_decontamination.fastp.json``, ``<RUN>_multiqc_report.html``),
  ``taxonomy-summary/{silva-ssu,silva-lsu,motus}/<RUN>_<db>.txt.gz`` + ``.html`` and
  ``function-summary/pfam/<RUN>_pfam.txt.gz`` + ``<RUN>_pfam.stats.json``; the same two
  verdict CSVs.
- assembly-analysis-pipeline v6: per assembly ``qc/``, ``cds/``, ``taxonomy/``,
  ``functional-annotation/{pfam,interpro,go}/``; verdicts in ``analysed_assemblies.csv``
  (``assembly,success``) and ``qc_failed_assemblies.csv``.

Taxonomy tables are the Krona text files (``count<TAB>rank<TAB>rank…``), which is also what
``mgnify-pipelines-toolkit``'s study-summary generators read.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from emg_django.analyses.choices import (
    AnalysisPipeline,
    AnnotationType,
    DownloadFileType,
    DownloadType,
    ExperimentType,
    PipelineVersion,
)

#: Placeholder for the run or assembly accession in path templates.
ID = "{id}"
#: Annotation key of an assembly's contig taxonomy (no API v2 type exists for it yet).
CONTIG_TAXONOMY_KEY = "taxonomies__contigs"

SILVA_RANKS = ("Superkingdom", "Kingdom", "Phylum", "Class", "Order", "Family", "Genus", "Species")
PR2_RANKS = (
    "Domain",
    "Supergroup",
    "Division",
    "Subdivision",
    "Class",
    "Order",
    "Family",
    "Genus",
    "Species",
)
MOTUS_RANKS = ("Kingdom", "Phylum", "Class", "Order", "Family", "Genus", "Species")
NCBI_RANKS = ("Domain", "Kingdom", "Phylum", "Class", "Order", "Family", "Genus", "Species")


#: The analysis pipelines (also the ``emg/pipeline`` run tag and the config section): one list,
#: shared with Django, which launches their jobs from the admin and the API.
PipelineName = AnalysisPipeline


class Subject(enum.StrEnum):
    """What one samplesheet row is."""

    RUN = "run"
    ASSEMBLY = "assembly"


class ReferenceType(enum.StrEnum):
    CLOSED_REFERENCE = "closed_reference"
    ASV = "asv"


@dataclass(frozen=True)
class OutputFile:
    """A file of one run's (or assembly's) results, relative to its result dir.

    :param template: path with ``{id}`` for the accession; ``*`` globs (e.g. per region).
    :param required: a passed run must have it, non-empty.
    :param alias: the name it is served under (default: its file name), for files whose names
        repeat across folders (each amplicon database folder has a ``<RUN>.html``).
    """

    template: str
    file_type: DownloadFileType
    download_type: DownloadType
    download_group: str
    short_description: str
    long_description: str
    required: bool = False
    alias: str | None = None

    def path(self, accession: str) -> str:
        return self.template.replace(ID, accession)

    def alias_of(self, file_name: str, accession: str) -> str:
        return self.alias.replace(ID, accession) if self.alias else file_name


@dataclass(frozen=True)
class TaxonomyTable:
    """A taxonomy table per reference database: organism lineages with counts.

    :param folder: the database's folder, e.g. ``taxonomy-summary/SILVA-SSU``.
    :param table: the Krona text table(s) to import (template; may glob per region).
    :param ranks: rank names of the table's columns after the count.
    :param header: the table's first line is a header to skip.
    :param exclude: glob matches containing this are skipped (the ASV ``concat`` table).
    :param files: the database's files, for downloads and validation.
    :param required: a passed run must have this database's folder.
    """

    label: str
    annotation_key: str
    folder: str
    table: str
    ranks: tuple[str, ...]
    reference_type: ReferenceType = ReferenceType.CLOSED_REFERENCE
    header: bool = False
    exclude: str | None = None
    files: tuple[OutputFile, ...] = ()
    required: bool = False


class FunctionTableFormat(enum.StrEnum):
    #: raw reads: ``function  read_count  coverage_depth  coverage_breadth`` (with a header).
    READ_PROFILE = "read_profile"
    #: assembly: ``pfam  description  count`` (with a header).
    PFAM_SUMMARY = "pfam_summary"


@dataclass(frozen=True)
class FunctionTable:
    """A functional summary (Pfam…): accessions with counts."""

    label: str
    annotation_key: str
    table: str
    format: FunctionTableFormat
    files: tuple[OutputFile, ...] = ()


@dataclass(frozen=True)
class QCSource:
    """Where a run's QC summary comes from.

    :param fastp: ``{label: template}`` of fastp JSON reports whose ``summary`` is kept.
    :param quast: template of a QUAST report (``metric<TAB>value`` lines, gzipped or not).
    """

    fastp: dict[str, str] = field(default_factory=dict)
    quast: str | None = None


@dataclass(frozen=True)
class Pipeline:
    """One MGnify analysis pipeline.

    :param experiment_types: which runs it analyses (assemblies: the ASSEMBLY type).
    :param samplesheet_columns: the samplesheet header, in the pipeline's order.
    :param passed_csv: top-level CSV of passed runs (``accession,status``, no header).
    :param passed_statuses: statuses allowed in ``passed_csv``.
    :param failed_csv: top-level CSV of QC-failed runs (``accession,reason``, no header).
    """

    name: PipelineName
    title: str
    version: PipelineVersion
    subject: Subject
    experiment_types: frozenset[ExperimentType]
    samplesheet_columns: tuple[str, ...]
    passed_csv: str
    passed_statuses: frozenset[str]
    failed_csv: str
    qc: QCSource
    files: tuple[OutputFile, ...]
    taxonomies: tuple[TaxonomyTable, ...]
    functions: tuple[FunctionTable, ...] = ()
    #: At least one taxonomy database must be present for a passed run.
    needs_any_taxonomy: bool = False

    @property
    def analysis_experiment_type(self) -> ExperimentType | None:
        """The experiment type analyses get (``None``: the run's own)."""
        return ExperimentType.ASSEMBLY if self.subject is Subject.ASSEMBLY else None

    def all_files(self) -> tuple[OutputFile, ...]:
        """Every known output file (plain files, then per taxonomy and function database)."""
        extra = [f for t in self.taxonomies for f in t.files]
        extra += [f for t in self.functions for f in t.files]
        return (*self.files, *extra)


def _file(
    template: str,
    file_type: DownloadFileType,
    download_type: DownloadType,
    group: str,
    short: str,
    long: str,
    required: bool = False,
    alias: str | None = None,
) -> OutputFile:
    return OutputFile(template, file_type, download_type, group, short, long, required, alias)


_QC = DownloadType.QUALITY_CONTROL
_TAX = DownloadType.TAXONOMIC_ANALYSIS
_FUNC = DownloadType.FUNCTIONAL_ANALYSIS
_T = DownloadFileType


def _amplicon_closed_reference(
    label: str, key: AnnotationType, ranks: tuple[str, ...]
) -> TaxonomyTable:
    folder = f"taxonomy-summary/{label}"
    group = f"taxonomies.closed_reference.{label}"
    return TaxonomyTable(
        label=label,
        annotation_key=key.value,
        folder=folder,
        table=f"{folder}/{ID}_{label}.txt",
        ranks=ranks,
        files=(
            _file(
                f"{folder}/{ID}_{label}.tsv",
                _T.TSV,
                _TAX,
                group,
                f"{label} taxonomy table",
                "Table with read counts for each taxonomic assignment",
            ),
            _file(
                f"{folder}/{ID}_{label}.txt",
                _T.TSV,
                _TAX,
                group,
                f"{label} Krona text",
                "Krona text input with the taxonomic distribution",
            ),
            _file(
                f"{folder}/{ID}.html",
                _T.HTML,
                _TAX,
                group,
                f"{label} Krona plot",
                f"Krona plot of the taxonomic assignments against {label}",
                alias=f"{ID}_{label}.html",
            ),
            _file(
                f"{folder}/{ID}_{label}.mseq",
                _T.TSV,
                _TAX,
                group,
                f"{label} MAPseq output",
                "MAPseq output table with taxonomic database hit details",
            ),
        ),
    )


def _amplicon_asv(label: str, key: AnnotationType, ranks: tuple[str, ...]) -> TaxonomyTable:
    folder = f"taxonomy-summary/{label}"
    group = f"taxonomies.asv.{label}"
    return TaxonomyTable(
        label=label,
        annotation_key=key.value,
        folder=folder,
        table=f"{folder}/{ID}_*_{label}_asv_krona_counts.txt",
        ranks=ranks,
        reference_type=ReferenceType.ASV,
        exclude="_concat_",
        files=(
            _file(
                f"{folder}/{ID}_{label}.mseq",
                _T.TSV,
                _TAX,
                group,
                f"{label} MAPseq output",
                "MAPseq output table with the ASVs' taxonomic assignments",
            ),
            _file(
                f"{folder}/{ID}_*_{label}_asv_krona_counts.txt",
                _T.TSV,
                _TAX,
                group,
                f"{label} ASV counts",
                "Krona text input of ASV counts per amplified region",
            ),
            _file(
                f"{folder}/{ID}_*.html",
                _T.HTML,
                _TAX,
                group,
                f"{label} Krona plot",
                "Krona plot of the ASVs' taxonomic assignments per amplified region",
            ),
        ),
    )


AMPLICON = Pipeline(
    name=PipelineName.AMPLICON,
    title="amplicon",
    version=PipelineVersion.V6,
    subject=Subject.RUN,
    experiment_types=frozenset({ExperimentType.AMPLICON}),
    samplesheet_columns=("sample", "fastq_1", "fastq_2", "single_end"),
    passed_csv="qc_passed_runs.csv",
    passed_statuses=frozenset({"all_results", "no_asvs"}),
    failed_csv="qc_failed_runs.csv",
    qc=QCSource(fastp={"fastp": f"qc/{ID}.fastp.json"}),
    files=(
        _file(
            f"qc/{ID}_seqfu.tsv",
            _T.TSV,
            _QC,
            "quality_control",
            "SeqFu check",
            "seqfu check of the reads' integrity",
            required=True,
        ),
        _file(
            f"qc/{ID}.fastp.json",
            _T.JSON,
            _QC,
            "quality_control",
            "fastp report",
            "fastp summary of read quality filtering",
            required=True,
        ),
        _file(
            f"qc/{ID}_multiqc_report.html",
            _T.HTML,
            _QC,
            "quality_control",
            "MultiQC quality control report",
            "MultiQC webpage showing quality control steps and metrics",
        ),
        _file(
            f"sequence-categorisation/{ID}.tblout.deoverlapped",
            _T.TSV,
            DownloadType.NON_CODING_RNAS,
            "sequence_categorisation",
            "rRNA hits",
            "Infernal cmsearch hits against rRNA models, de-overlapped",
        ),
        _file(
            f"sequence-categorisation/{ID}_*.fasta",
            _T.FASTA,
            DownloadType.NON_CODING_RNAS,
            "sequence_categorisation",
            "rRNA sequences",
            "Reads matching rRNA models",
        ),
        _file(
            f"amplified-region-inference/{ID}.tsv",
            _T.TSV,
            DownloadType.STATISTICS,
            "amplified_region_inference",
            "Amplified regions",
            "Inferred amplified variable regions",
        ),
        _file(
            f"primer-identification/{ID}.cutadapt.json",
            _T.JSON,
            _QC,
            "primer_identification",
            "Cutadapt summary",
            "JSON report from cutadapt during primer identification",
        ),
        _file(
            f"asv/{ID}_asv_seqs.fasta",
            _T.FASTA,
            DownloadType.SEQUENCE_DATA,
            "asv",
            "ASV sequences",
            "Amplicon sequence variants found by DADA2",
        ),
        _file(
            f"asv/{ID}_dada2_stats.tsv",
            _T.TSV,
            DownloadType.STATISTICS,
            "asv",
            "DADA2 statistics",
            "Reads kept at each DADA2 step",
        ),
    ),
    taxonomies=(
        _amplicon_closed_reference("SILVA-SSU", AnnotationType.TAXONOMIES_SSU, SILVA_RANKS),
        _amplicon_closed_reference("SILVA-LSU", AnnotationType.TAXONOMIES_LSU, SILVA_RANKS),
        _amplicon_closed_reference("PR2", AnnotationType.TAXONOMIES_PR2, PR2_RANKS),
        _amplicon_closed_reference("UNITE", AnnotationType.TAXONOMIES_UNITE, SILVA_RANKS),
        _amplicon_closed_reference("ITSoneDB", AnnotationType.TAXONOMIES_ITS_ONE_DB, SILVA_RANKS),
        _amplicon_asv("DADA2-SILVA", AnnotationType.TAXONOMIES_DADA2_SILVA, SILVA_RANKS),
        _amplicon_asv("DADA2-PR2", AnnotationType.TAXONOMIES_DADA2_PR2, PR2_RANKS),
    ),
    needs_any_taxonomy=True,
)


def _rawreads_taxonomy(label: str, key: AnnotationType, ranks: tuple[str, ...]) -> TaxonomyTable:
    folder = f"taxonomy-summary/{label}"
    group = f"taxonomies.closed_reference.{label}"
    return TaxonomyTable(
        label=label,
        annotation_key=key.value,
        folder=folder,
        table=f"{folder}/{ID}_{label}.txt.gz",
        ranks=ranks,
        header=True,
        required=True,
        files=(
            _file(
                f"{folder}/{ID}_{label}.txt.gz",
                _T.TSV,
                _TAX,
                group,
                f"{label} taxonomy table",
                "Table with read counts for each taxonomic assignment",
                required=True,
            ),
            _file(
                f"{folder}/{ID}_{label}.html",
                _T.HTML,
                _TAX,
                group,
                f"{label} Krona plot",
                f"Krona plot of the taxonomic assignments from {label}",
                required=True,
            ),
        ),
    )


RAWREADS = Pipeline(
    name=PipelineName.RAWREADS,
    title="raw reads",
    version=PipelineVersion.V6,
    subject=Subject.RUN,
    experiment_types=frozenset({ExperimentType.METAGENOMIC, ExperimentType.METATRANSCRIPTOMIC}),
    samplesheet_columns=("sample", "fastq_1", "fastq_2", "single_end", "instrument_platform"),
    passed_csv="qc_passed_runs.csv",
    passed_statuses=frozenset({"all_results"}),
    failed_csv="qc_failed_runs.csv",
    qc=QCSource(
        fastp={
            "qc": f"qc/{ID}_qc.fastp.json",
            "decontamination": f"qc/{ID}_decontamination.fastp.json",
        }
    ),
    files=(
        _file(
            f"qc/{ID}_qc.fastp.json",
            _T.JSON,
            _QC,
            "quality_control",
            "fastp QC report",
            "fastp summary of read quality filtering",
            required=True,
        ),
        _file(
            f"qc/{ID}_decontamination.fastp.json",
            _T.JSON,
            _QC,
            "quality_control",
            "fastp decontamination report",
            "fastp summary after host and phiX removal",
            required=True,
        ),
        _file(
            f"qc/{ID}_multiqc_report.html",
            _T.HTML,
            _QC,
            "quality_control",
            "MultiQC quality control report",
            "MultiQC webpage showing quality control steps and metrics",
            required=True,
        ),
    ),
    taxonomies=(
        _rawreads_taxonomy("silva-ssu", AnnotationType.TAXONOMIES_SSU, SILVA_RANKS),
        _rawreads_taxonomy("silva-lsu", AnnotationType.TAXONOMIES_LSU, SILVA_RANKS),
        _rawreads_taxonomy("motus", AnnotationType.TAXONOMIES_MOTUS, MOTUS_RANKS),
    ),
    functions=(
        FunctionTable(
            label="pfam",
            annotation_key=AnnotationType.PFAMS.value,
            table=f"function-summary/pfam/{ID}_pfam.txt.gz",
            format=FunctionTableFormat.READ_PROFILE,
            files=(
                _file(
                    f"function-summary/pfam/{ID}_pfam.txt.gz",
                    _T.TSV,
                    _FUNC,
                    "functional_annotation.pfam",
                    "Pfam functional profile table",
                    "Read counts and coverage for each Pfam-A profile",
                ),
                _file(
                    f"function-summary/pfam/{ID}_pfam.stats.json",
                    _T.JSON,
                    _FUNC,
                    "functional_annotation.pfam",
                    "Pfam profiling statistics",
                    "Reads mapped to Pfam, models hit and total hits",
                ),
            ),
        ),
    ),
)

_ASM_TAX_GROUP = "taxonomy"
ASSEMBLY = Pipeline(
    name=PipelineName.ASSEMBLY,
    title="assembly analysis",
    version=PipelineVersion.V6,
    subject=Subject.ASSEMBLY,
    experiment_types=frozenset({ExperimentType.ASSEMBLY}),
    samplesheet_columns=("sample", "assembly_fasta"),
    passed_csv="analysed_assemblies.csv",
    passed_statuses=frozenset({"success"}),
    failed_csv="qc_failed_assemblies.csv",
    qc=QCSource(quast=f"qc/{ID}_quast_stats.tsv.gz"),
    files=(
        _file(
            f"qc/{ID}_filtered_contigs.fasta.gz",
            _T.FASTA,
            _QC,
            "quality_control",
            "Filtered contigs",
            "Contigs of at least 500 bases with few ambiguous bases",
            required=True,
        ),
        _file(
            f"qc/{ID}_quast_stats.tsv.gz",
            _T.TSV,
            _QC,
            "quality_control",
            "Assembly QC metrics",
            "QUAST quality metrics of the assembly",
            required=True,
        ),
        _file(
            "qc/multiqc_report.html",
            _T.HTML,
            _QC,
            "quality_control",
            "MultiQC quality control report",
            "MultiQC webpage showing quality control steps and metrics",
        ),
        _file(
            f"cds/{ID}_predicted_orf.ffn.gz",
            _T.FASTA,
            DownloadType.CODING_SEQUENCES,
            "coding_sequences",
            "Predicted ORF nucleotide sequences",
            "Nucleotide sequences of the ORFs called by Pyrodigal and FragGeneScanRs",
            required=True,
        ),
        _file(
            f"cds/{ID}_predicted_cds.faa.gz",
            _T.FASTA,
            DownloadType.CODING_SEQUENCES,
            "coding_sequences",
            "Predicted CDS proteins",
            "Amino-acid sequences of the CDS",
            required=True,
        ),
        _file(
            f"cds/{ID}_predicted_cds.gff.gz",
            _T.GFF,
            DownloadType.CODING_SEQUENCES,
            "coding_sequences",
            "Predicted CDS",
            "CDS regions in GFF3",
            required=True,
        ),
        _file(
            f"functional-annotation/interpro/{ID}_interpro_summary.tsv.gz",
            _T.TSV,
            _FUNC,
            "functional_annotation.interpro",
            "InterPro identifier counts",
            "Table with counts for each InterPro identifier found",
        ),
        _file(
            f"functional-annotation/go/{ID}_goslim_summary.tsv.gz",
            _T.TSV,
            _FUNC,
            "functional_annotation.go_slims",
            "GO-Slim term counts",
            "Table with counts for each GO-Slim term found",
        ),
    ),
    taxonomies=(
        TaxonomyTable(
            label="contigs",
            annotation_key=CONTIG_TAXONOMY_KEY,
            folder="taxonomy",
            table=f"taxonomy/{ID}.krona.txt.gz",
            ranks=NCBI_RANKS,
            required=True,
            files=(
                _file(
                    f"taxonomy/{ID}_contigs_taxonomy.tsv.gz",
                    _T.TSV,
                    _TAX,
                    _ASM_TAX_GROUP,
                    "Contig taxonomy table",
                    "Taxonomic assignments of the contigs",
                    required=True,
                ),
                _file(
                    f"taxonomy/{ID}.krona.txt.gz",
                    _T.TSV,
                    _TAX,
                    _ASM_TAX_GROUP,
                    "Krona taxonomy table",
                    "Contig counts per lineage",
                    required=True,
                ),
                _file(
                    f"taxonomy/{ID}.html",
                    _T.HTML,
                    _TAX,
                    _ASM_TAX_GROUP,
                    "Krona taxonomy visualisation",
                    "Interactive Krona taxonomy chart",
                ),
            ),
        ),
    ),
    functions=(
        FunctionTable(
            label="pfam",
            annotation_key=AnnotationType.PFAMS.value,
            table=f"functional-annotation/pfam/{ID}_pfam_summary.tsv.gz",
            format=FunctionTableFormat.PFAM_SUMMARY,
            files=(
                _file(
                    f"functional-annotation/pfam/{ID}_pfam_summary.tsv.gz",
                    _T.TSV,
                    _FUNC,
                    "functional_annotation.pfams",
                    "Pfam accession counts",
                    "Table with counts for each Pfam accession found",
                    required=True,
                ),
            ),
        ),
    ),
)

PIPELINES: dict[PipelineName, Pipeline] = {p.name: p for p in (AMPLICON, RAWREADS, ASSEMBLY)}
