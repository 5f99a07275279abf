"""Option lists of the data model, with the values MGnify's public API v2 uses."""

from __future__ import annotations

from django.db import models


class ExperimentType(models.TextChoices):
    """What kind of sequencing an analysis or run is (API v2 codes)."""

    AMPLICON = "AMPLI", "Amplicon"
    ASSEMBLY = "ASSEM", "Assembly"
    HYBRID_ASSEMBLY = "HYASS", "Hybrid assembly"
    LONG_READ_ASSEMBLY = "LRASS", "Long-read assembly"
    METABARCODING = "METAB", "Metabarcoding"
    METAGENOMIC = "METAG", "Metagenomic"
    METATRANSCRIPTOMIC = "METAT", "Metatranscriptomic"
    UNKNOWN = "UNKNO", "Unknown"


class PipelineVersion(models.TextChoices):
    """MGnify pipeline versions."""

    V1 = "V1", "v1.0"
    V2 = "V2", "v2.0"
    V3 = "V3", "v3.0"
    V4 = "V4", "v4.0"
    V4_1 = "V4.1", "v4.1"
    V5 = "V5", "v5.0"
    V6 = "V6", "v6.0"
    V6_1 = "V6.1", "v6.1"


class AnalysisStatus(models.TextChoices):
    """Where an analysis is in its life; failures carry a reason beside the status."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    QC_FAILED = "qc_failed", "QC failed"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"
    ANNOTATIONS_IMPORTED = "annotations_imported", "Annotations imported"

    @classmethod
    def terminal(cls) -> frozenset[AnalysisStatus]:
        """Statuses an analysis run ends in."""
        return frozenset(
            {cls.COMPLETED, cls.QC_FAILED, cls.FAILED, cls.BLOCKED, cls.ANNOTATIONS_IMPORTED}
        )


class LibraryLayout(models.TextChoices):
    SINGLE = "SINGLE", "Single"
    PAIRED = "PAIRED", "Paired"


class DownloadType(models.TextChoices):
    """Download groups as the API v2 names them."""

    CODING_SEQUENCES = "Coding Sequences"
    SEQUENCE_DATA = "Sequence data"
    QUALITY_CONTROL = "Quality control"
    FUNCTIONAL_ANALYSIS = "Functional analysis"
    TAXONOMIC_ANALYSIS = "Taxonomic analysis"
    STATISTICS = "Statistics"
    NON_CODING_RNAS = "non-coding RNAs"
    GENOME_ANALYSIS = "Genome analysis"
    RO_CRATE = "Analysis RO Crate"
    OTHER = "Other"


class DownloadFileType(models.TextChoices):
    FASTA = "fasta"
    TSV = "tsv"
    BIOM = "biom"
    CSV = "csv"
    JSON = "json"
    SVG = "svg"
    TREE = "tree"
    HTML = "html"
    GFF = "gff"
    OTHER = "other"


class AnnotationType(models.TextChoices):
    """Keys of ``Analysis.annotations``: taxonomies per reference database, and functions."""

    TAXONOMIES_SSU = "taxonomies__ssu", "SSU rRNA taxonomy (SILVA)"
    TAXONOMIES_LSU = "taxonomies__lsu", "LSU rRNA taxonomy (SILVA)"
    TAXONOMIES_ITS_ONE_DB = "taxonomies__its_one_db", "ITS taxonomy (ITSoneDB)"
    TAXONOMIES_UNITE = "taxonomies__unite", "ITS taxonomy (UNITE)"
    TAXONOMIES_PR2 = "taxonomies__pr2", "SSU taxonomy (PR2)"
    TAXONOMIES_DADA2_SILVA = "taxonomies__dada2_silva", "ASV taxonomy (DADA2, SILVA)"
    TAXONOMIES_DADA2_PR2 = "taxonomies__dada2_pr2", "ASV taxonomy (DADA2, PR2)"
    TAXONOMIES_MOTUS = "taxonomies__motus", "mOTUs taxonomy"
    PFAMS = "pfams", "Pfam domains"


class AnalysisPipeline(models.TextChoices):
    """The analysis pipelines; each is a Dagster job named :func:`analysis_job_name`."""

    AMPLICON = "amplicon", "Amplicon"
    RAWREADS = "rawreads", "Raw reads"
    ASSEMBLY = "assembly", "Assembly"


#: The Dagster job that mirrors a study from ENA.
INGEST_JOB_NAME = "ena_ingest"


def analysis_job_name(pipeline: AnalysisPipeline | str) -> str:
    """The Dagster job that runs ``pipeline`` for a study partition (e.g. ``amplicon_analysis``)."""
    return f"{AnalysisPipeline(pipeline).value}_analysis"
