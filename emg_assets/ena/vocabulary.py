"""ENA's controlled vocabularies and the Portal API's enumerated parameters.

Values are spelled exactly as ENA spells them: ENA's controlled values are case-sensitive and a
wrong case gives zero rows rather than an error, so queries take their values from these enums.
``StrEnum`` members compare equal to the plain strings ENA returns
(``"WGS" == LibraryStrategy.WGS``).
"""

from __future__ import annotations

import enum


class ENAResult(enum.StrEnum):
    """The Portal API's ``result`` parameter (the kind of record searched)."""

    STUDY = "study"
    #: Studies that have read data.
    READ_STUDY = "read_study"
    SAMPLE = "sample"
    READ_RUN = "read_run"
    #: Analyses, including assemblies submitted as analyses (ERZ…).
    ANALYSIS = "analysis"


class DataPortal(enum.StrEnum):
    """The Portal API's ``dataPortal`` parameter."""

    #: Metagenome data only (MGnify's first choice).
    METAGENOME = "metagenome"
    #: ENA's default portal; it excludes metagenome data unless ``includeMetagenomes=true``.
    ENA = "ena"


class LibraryLayout(enum.StrEnum):
    """``library_layout``: paired runs have ``_1``/``_2`` fastq files, single runs one file."""

    PAIRED = "PAIRED"
    SINGLE = "SINGLE"


class LibraryStrategy(enum.StrEnum):
    """``library_strategy`` (the INSDC vocabulary)."""

    WGS = "WGS"
    WGA = "WGA"
    WXS = "WXS"
    RNA_SEQ = "RNA-Seq"
    SSRNA_SEQ = "ssRNA-seq"
    SNRNA_SEQ = "snRNA-seq"
    MIRNA_SEQ = "miRNA-Seq"
    NCRNA_SEQ = "ncRNA-Seq"
    FL_CDNA = "FL-cDNA"
    EST = "EST"
    HI_C = "Hi-C"
    ATAC_SEQ = "ATAC-seq"
    WCS = "WCS"
    RAD_SEQ = "RAD-Seq"
    CLONE = "CLONE"
    POOLCLONE = "POOLCLONE"
    AMPLICON = "AMPLICON"
    CLONEEND = "CLONEEND"
    FINISHING = "FINISHING"
    CHIP_SEQ = "ChIP-Seq"
    MNASE_SEQ = "MNase-Seq"
    DNASE_HYPERSENSITIVITY = "DNase-Hypersensitivity"
    BISULFITE_SEQ = "Bisulfite-Seq"
    CTS = "CTS"
    MRE_SEQ = "MRE-Seq"
    MEDIP_SEQ = "MeDIP-Seq"
    MBD_SEQ = "MBD-Seq"
    TN_SEQ = "Tn-Seq"
    VALIDATION = "VALIDATION"
    FAIRE_SEQ = "FAIRE-seq"
    SELEX = "SELEX"
    RIP_SEQ = "RIP-Seq"
    CHIA_PET = "ChIA-PET"
    SYNTHETIC_LONG_READ = "Synthetic-Long-Read"
    TARGETED_CAPTURE = "Targeted-Capture"
    TETHERED_CHROMATIN_CONFORMATION_CAPTURE = "Tethered Chromatin Conformation Capture"
    NOME_SEQ = "NOMe-Seq"
    CHM_SEQ = "ChM-Seq"
    GBS = "GBS"
    RIBO_SEQ = "Ribo-Seq"
    OTHER = "OTHER"


class LibrarySource(enum.StrEnum):
    """``library_source`` (the INSDC vocabulary)."""

    GENOMIC = "GENOMIC"
    GENOMIC_SINGLE_CELL = "GENOMIC SINGLE CELL"
    TRANSCRIPTOMIC = "TRANSCRIPTOMIC"
    TRANSCRIPTOMIC_SINGLE_CELL = "TRANSCRIPTOMIC SINGLE CELL"
    METAGENOMIC = "METAGENOMIC"
    METATRANSCRIPTOMIC = "METATRANSCRIPTOMIC"
    SYNTHETIC = "SYNTHETIC"
    VIRAL_RNA = "VIRAL RNA"
    OTHER = "OTHER"


class InstrumentPlatform(enum.StrEnum):
    """``instrument_platform`` (the INSDC vocabulary)."""

    LS454 = "LS454"
    ILLUMINA = "ILLUMINA"
    HELICOS = "HELICOS"
    ABI_SOLID = "ABI_SOLID"
    COMPLETE_GENOMICS = "COMPLETE_GENOMICS"
    BGISEQ = "BGISEQ"
    DNBSEQ = "DNBSEQ"
    OXFORD_NANOPORE = "OXFORD_NANOPORE"
    PACBIO_SMRT = "PACBIO_SMRT"
    ION_TORRENT = "ION_TORRENT"
    CAPILLARY = "CAPILLARY"
    ELEMENT = "ELEMENT"
    ULTIMA = "ULTIMA"
    VELA_DIAGNOSTICS = "VELA_DIAGNOSTICS"
    GENAPSYS = "GENAPSYS"
    GENEMIND = "GENEMIND"
    TAPESTRI = "TAPESTRI"


class AssemblyType(enum.StrEnum):
    """``assembly_type`` of analyses."""

    PRIMARY_METAGENOME = "primary metagenome"
    BINNED_METAGENOME = "binned metagenome"
    MAG = "Metagenome-Assembled Genome (MAG)"
    SAG = "Environmental Single-Cell Amplified Genome (SAG)"
    CLONE_OR_ISOLATE = "clone or isolate"
    PRIMARY_CLUSTER = "primary cluster"
    CLINICAL_ISOLATE_ASSEMBLY = "clinical isolate assembly"
