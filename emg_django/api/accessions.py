"""Validation of the accessions in paths and searches: malformed input is a 400 that says so."""

from __future__ import annotations

import dataclasses
import re

from emg_django.api.errors import bad_request
from emg_django.core.accessions import MGnifyPrefix, parse_accession
from emg_django.core.ena_accessions import ACCESSION_PATTERNS
from emg_django.core.ena_accessions import AccessionKind as EnaKind

#: Longest accession looked at; anything longer is malformed without a regex run.
MAX_ACCESSION_LENGTH = 40
#: How much of a bad value an error message repeats.
SHOWN_CHARS = 40


def shown(value: str) -> str:
    """``value`` quoted and cut short, for error messages."""
    return repr(value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…")


@dataclasses.dataclass(frozen=True)
class AccessionKind:
    """One kind of ENA accession: its name and shape."""

    name: str
    pattern: re.Pattern[str]
    expected: str

    def matches(self, value: str) -> bool:
        return len(value) <= MAX_ACCESSION_LENGTH and bool(self.pattern.fullmatch(value))

    def parse(self, value: str) -> str:
        """The normalised (upper-case) accession.

        :raises HttpError: 400 naming the expected shape.
        """
        normalised = value.strip().upper()
        if not self.matches(normalised):
            raise bad_request(
                f"malformed {self.name} accession {shown(value)}: expected {self.expected}"
            )
        return normalised


def _any_of(*kinds: EnaKind) -> re.Pattern[str]:
    """One pattern matching an accession of any of ``kinds`` (patterns from ena_accessions)."""
    return re.compile("|".join(f"(?:{ACCESSION_PATTERNS[kind].pattern})" for kind in kinds))


ENA_STUDY = AccessionKind(
    "ENA study",
    _any_of(EnaKind.STUDY, EnaKind.SECONDARY_STUDY),
    "PRJEB…, PRJNA…, ERP…, SRP… or DRP…",
)
ENA_SAMPLE = AccessionKind(
    "sample",
    _any_of(EnaKind.SAMPLE, EnaKind.SECONDARY_SAMPLE),
    "SAMEA…, SAMN…, SAMD…, ERS…, SRS… or DRS…",
)
ENA_RUN = AccessionKind("run", _any_of(EnaKind.RUN), "ERR…, SRR… or DRR…")
ENA_ASSEMBLY = AccessionKind(
    "assembly", _any_of(EnaKind.ANALYSIS, EnaKind.ASSEMBLY), "ERZ… or GCA_…"
)


def parse_mgnify(prefix: MGnifyPrefix, value: str) -> int:
    """The row id of an MGnify accession (``MGYS…``/``MGYA…``).

    :raises HttpError: 400 for anything else.
    """
    pk = parse_accession(prefix, value) if len(value) <= MAX_ACCESSION_LENGTH else None
    if pk is None:
        raise bad_request(
            f"malformed accession {shown(value)}: expected {prefix} followed by 8 digits"
        )
    return pk


def mgnify_pk_or_none(prefix: MGnifyPrefix, value: str) -> int | None:
    """The row id if ``value`` is an MGnify accession of ``prefix``, else ``None``."""
    return parse_accession(prefix, value) if len(value) <= MAX_ACCESSION_LENGTH else None
