"""ENA accession formats: one place for the regular expressions the platform validates with.

Used by the ENA client (query values), the ingest assets (partition keys: a study partition key
must be a study accession, Dagster does not validate keys), the API (accessions in paths and
searches) and the models (the preferred accession of an object that has several). Plain Python:
importing it needs no Django set-up.

Formats (INSDC): a study is a BioProject ``PRJ[EDN][A-Z]\\d+`` (primary) or an SRA-style
``[EDS]RP\\d+`` (secondary); a sample is a BioSample ``SAM[EDN][A-Z]?\\d+`` or ``[EDS]RS\\d+``;
runs ``[EDS]RR\\d+``, experiments ``[EDS]RX\\d+``, analyses (assemblies submitted as analyses)
``[EDS]RZ\\d+``, assembled genomes ``GCA_\\d{9}`` with an optional version. The letter says which
INSDC partner holds it: E = ENA, D = DDBJ, S/N = NCBI.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable


class AccessionKind(enum.StrEnum):
    """What an accession identifies."""

    STUDY = "study"
    SECONDARY_STUDY = "secondary_study"
    SAMPLE = "sample"
    SECONDARY_SAMPLE = "secondary_sample"
    RUN = "run"
    EXPERIMENT = "experiment"
    ANALYSIS = "analysis"
    ASSEMBLY = "assembly"


#: Whole-string patterns; ``fullmatch`` is used so "PRJEB1 OR x" can never pass as an accession.
ACCESSION_PATTERNS: dict[AccessionKind, re.Pattern[str]] = {
    AccessionKind.STUDY: re.compile(r"PRJ[EDN][A-Z]\d+"),
    AccessionKind.SECONDARY_STUDY: re.compile(r"[EDS]RP\d+"),
    AccessionKind.SAMPLE: re.compile(r"SAM[EDN][A-Z]?\d+"),
    AccessionKind.SECONDARY_SAMPLE: re.compile(r"[EDS]RS\d+"),
    AccessionKind.RUN: re.compile(r"[EDS]RR\d+"),
    AccessionKind.EXPERIMENT: re.compile(r"[EDS]RX\d+"),
    AccessionKind.ANALYSIS: re.compile(r"[EDS]RZ\d+"),
    AccessionKind.ASSEMBLY: re.compile(r"GCA_\d{9}(?:\.\d+)?"),
}

STUDY_KINDS = frozenset({AccessionKind.STUDY, AccessionKind.SECONDARY_STUDY})
SAMPLE_KINDS = frozenset({AccessionKind.SAMPLE, AccessionKind.SECONDARY_SAMPLE})


def accession_kind(accession: str) -> AccessionKind | None:
    """The kind of an accession, or None when it matches no known format.

    :param accession: the accession, exactly as ENA spells it (case-sensitive, no spaces).
    """
    for kind, pattern in ACCESSION_PATTERNS.items():
        if pattern.fullmatch(accession):
            return kind
    return None


def is_accession_of(accession: str, kinds: Iterable[AccessionKind]) -> bool:
    """Whether ``accession`` is of one of ``kinds``."""
    return any(ACCESSION_PATTERNS[kind].fullmatch(accession) for kind in kinds)


def is_study_accession(accession: str) -> bool:
    """A primary (PRJ…) or secondary (ERP/SRP/DRP…) study accession."""
    return is_accession_of(accession, STUDY_KINDS)


def is_primary_study_accession(accession: str) -> bool:
    """A BioProject accession (PRJEB…, PRJNA…, PRJDB…)."""
    return ACCESSION_PATTERNS[AccessionKind.STUDY].fullmatch(accession) is not None


def is_secondary_study_accession(accession: str) -> bool:
    """An SRA-style study accession (ERP…, SRP…, DRP…)."""
    return ACCESSION_PATTERNS[AccessionKind.SECONDARY_STUDY].fullmatch(accession) is not None


def is_sample_accession(accession: str) -> bool:
    """A BioSample (SAMEA…, SAMN…, SAMD…) or SRA-style (ERS/SRS/DRS…) sample accession."""
    return is_accession_of(accession, SAMPLE_KINDS)


def validate_accession(accession: str, kinds: Iterable[AccessionKind]) -> str:
    """Return ``accession`` if it is of one of ``kinds``.

    :raises ValueError: naming the accession and the expected kinds.
    """
    kinds = tuple(kinds)
    if not isinstance(accession, str) or not is_accession_of(accession, kinds):
        expected = ", ".join(kind.value for kind in kinds)
        raise ValueError(f"{accession!r} is not a valid ENA accession of kind {expected}")
    return accession


def validate_study_accession(accession: str) -> str:
    """Return ``accession`` if it is a study accession (e.g. for a partition key).

    :raises ValueError: if it is not.
    """
    return validate_accession(accession, (AccessionKind.STUDY, AccessionKind.SECONDARY_STUDY))


def primary_first(accessions: Iterable[str]) -> list[str]:
    """Study accessions ordered with the BioProject (PRJ…) first, then the others, de-duplicated.

    The first element is the object's preferred accession.
    """
    unique = list(dict.fromkeys(accessions))
    return sorted(unique, key=lambda accession: not is_primary_study_accession(accession))
