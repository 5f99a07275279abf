"""MGnify accessions (``MGYS…``, ``MGYA…``): derived from row ids, never stored."""

from __future__ import annotations

import enum
import re

ACCESSION_DIGITS = 8


class MGnifyPrefix(enum.StrEnum):
    """The prefixes of the accessions MGnify mints."""

    STUDY = "MGYS"
    ANALYSIS = "MGYA"


def format_accession(prefix: MGnifyPrefix, pk: int) -> str:
    """``MGYS`` + 8 digits (more once ids pass 10⁸) from a row id."""
    return f"{prefix}{pk:0{ACCESSION_DIGITS}d}"


def parse_accession(prefix: MGnifyPrefix, accession: str) -> int | None:
    """The row id of an MGnify accession, or ``None`` if it is not one of ``prefix``."""
    match = re.fullmatch(rf"{prefix}(\d{{{ACCESSION_DIGITS},}})", accession.strip().upper())
    return int(match.group(1)) if match else None
