"""ENA Portal API field names, what kind of value each holds, and which result offers which.

The per-result sets are the whitelist the query builder and the client validate against: a field
outside them is refused before a request is made (ENA would answer 400 "Invalid fieldName(s)").
The lists are the fields the platform uses (see ENA.md), not all of ENA's; add a field here,
with its kind, before using it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from emg_assets.ena.vocabulary import (
    AssemblyType,
    ENAResult,
    InstrumentPlatform,
    LibraryLayout,
    LibrarySource,
    LibraryStrategy,
)
from emg_django.core.ena_accessions import AccessionKind

# Field names, as constants so a typo fails at import rather than as a 400 from ENA.
STUDY_ACCESSION = "study_accession"
SECONDARY_STUDY_ACCESSION = "secondary_study_accession"
STUDY_TITLE = "study_title"
STUDY_DESCRIPTION = "study_description"
STUDY_NAME = "study_name"
CENTER_NAME = "center_name"
FIRST_PUBLIC = "first_public"
LAST_UPDATED = "last_updated"
TAX_ID = "tax_id"
SCIENTIFIC_NAME = "scientific_name"
PARENT_STUDY_ACCESSION = "parent_study_accession"
BROKER_NAME = "broker_name"
STATUS = "status"
SAMPLE_ACCESSION = "sample_accession"
SECONDARY_SAMPLE_ACCESSION = "secondary_sample_accession"
SAMPLE_TITLE = "sample_title"
SAMPLE_ALIAS = "sample_alias"
LAT = "lat"
LON = "lon"
LOCATION = "location"
COLLECTION_DATE = "collection_date"
COUNTRY = "country"
DEPTH = "depth"
ENVIRONMENT_BIOME = "environment_biome"
ENVIRONMENT_FEATURE = "environment_feature"
ENVIRONMENT_MATERIAL = "environment_material"
HOST = "host"
HOST_TAX_ID = "host_tax_id"
CHECKLIST = "checklist"
RUN_ACCESSION = "run_accession"
EXPERIMENT_ACCESSION = "experiment_accession"
LIBRARY_STRATEGY = "library_strategy"
LIBRARY_LAYOUT = "library_layout"
LIBRARY_SOURCE = "library_source"
LIBRARY_SELECTION = "library_selection"
LIBRARY_NAME = "library_name"
INSTRUMENT_PLATFORM = "instrument_platform"
INSTRUMENT_MODEL = "instrument_model"
FASTQ_FTP = "fastq_ftp"
FASTQ_MD5 = "fastq_md5"
FASTQ_BYTES = "fastq_bytes"
READ_COUNT = "read_count"
BASE_COUNT = "base_count"
ANALYSIS_ACCESSION = "analysis_accession"
ANALYSIS_TYPE = "analysis_type"
ASSEMBLY_TYPE = "assembly_type"
GENERATED_FTP = "generated_ftp"
GENERATED_MD5 = "generated_md5"
COMPLETENESS_SCORE = "completeness_score"
CONTAMINATION_SCORE = "contamination_score"
ASSEMBLY_SOFTWARE = "assembly_software"


class FieldKind(enum.StrEnum):
    """How a field's values are written in a query (and validated before they are)."""

    ACCESSION = "accession"
    DATE = "date"
    INTEGER = "integer"
    DECIMAL = "decimal"
    VOCABULARY = "vocabulary"
    TEXT = "text"


@dataclass(frozen=True)
class FieldSpec:
    """One Portal API field: its kind, and the accession kinds or vocabulary it accepts."""

    name: str
    kind: FieldKind
    accession_kinds: tuple[AccessionKind, ...] = ()
    vocabulary: frozenset[str] = field(default_factory=frozenset)


def _accession(name: str, *kinds: AccessionKind) -> FieldSpec:
    return FieldSpec(name, FieldKind.ACCESSION, accession_kinds=kinds)


def _vocabulary(name: str, values: type[enum.StrEnum]) -> FieldSpec:
    return FieldSpec(name, FieldKind.VOCABULARY, vocabulary=frozenset(v.value for v in values))


_STUDY_KINDS = (AccessionKind.STUDY, AccessionKind.SECONDARY_STUDY)
_SAMPLE_KINDS = (AccessionKind.SAMPLE, AccessionKind.SECONDARY_SAMPLE)

#: Every field the platform knows, by name. Study and sample fields accept primary and secondary
#: accessions alike because clients query ``(study_accession=X OR secondary_study_accession=X)``
#: with one X of either kind (ENA answers zero rows for the side that does not match).
FIELD_SPECS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        _accession(STUDY_ACCESSION, *_STUDY_KINDS),
        _accession(SECONDARY_STUDY_ACCESSION, *_STUDY_KINDS),
        _accession(PARENT_STUDY_ACCESSION, *_STUDY_KINDS),
        _accession(SAMPLE_ACCESSION, *_SAMPLE_KINDS),
        _accession(SECONDARY_SAMPLE_ACCESSION, *_SAMPLE_KINDS),
        _accession(RUN_ACCESSION, AccessionKind.RUN),
        _accession(EXPERIMENT_ACCESSION, AccessionKind.EXPERIMENT),
        _accession(ANALYSIS_ACCESSION, AccessionKind.ANALYSIS),
        FieldSpec(FIRST_PUBLIC, FieldKind.DATE),
        FieldSpec(LAST_UPDATED, FieldKind.DATE),
        FieldSpec(TAX_ID, FieldKind.INTEGER),
        FieldSpec(HOST_TAX_ID, FieldKind.INTEGER),
        FieldSpec(READ_COUNT, FieldKind.INTEGER),
        FieldSpec(BASE_COUNT, FieldKind.INTEGER),
        FieldSpec(FASTQ_BYTES, FieldKind.INTEGER),
        FieldSpec(LAT, FieldKind.DECIMAL),
        FieldSpec(LON, FieldKind.DECIMAL),
        FieldSpec(COMPLETENESS_SCORE, FieldKind.DECIMAL),
        FieldSpec(CONTAMINATION_SCORE, FieldKind.DECIMAL),
        _vocabulary(LIBRARY_STRATEGY, LibraryStrategy),
        _vocabulary(LIBRARY_SOURCE, LibrarySource),
        _vocabulary(LIBRARY_LAYOUT, LibraryLayout),
        _vocabulary(INSTRUMENT_PLATFORM, InstrumentPlatform),
        _vocabulary(ASSEMBLY_TYPE, AssemblyType),
        *(
            FieldSpec(name, FieldKind.TEXT)
            for name in (
                STUDY_TITLE,
                STUDY_DESCRIPTION,
                STUDY_NAME,
                CENTER_NAME,
                SCIENTIFIC_NAME,
                BROKER_NAME,
                STATUS,
                SAMPLE_TITLE,
                SAMPLE_ALIAS,
                LOCATION,
                COLLECTION_DATE,
                COUNTRY,
                DEPTH,
                ENVIRONMENT_BIOME,
                ENVIRONMENT_FEATURE,
                ENVIRONMENT_MATERIAL,
                HOST,
                CHECKLIST,
                LIBRARY_SELECTION,
                LIBRARY_NAME,
                INSTRUMENT_MODEL,
                FASTQ_FTP,
                FASTQ_MD5,
                ANALYSIS_TYPE,
                GENERATED_FTP,
                GENERATED_MD5,
                ASSEMBLY_SOFTWARE,
            )
        ),
    )
}

#: Default fields the client asks for, per result (the ones ENA.md lists as useful).
STUDY_FIELDS: tuple[str, ...] = (
    STUDY_ACCESSION,
    SECONDARY_STUDY_ACCESSION,
    STUDY_TITLE,
    STUDY_DESCRIPTION,
    STUDY_NAME,
    CENTER_NAME,
    FIRST_PUBLIC,
    LAST_UPDATED,
    TAX_ID,
    SCIENTIFIC_NAME,
    PARENT_STUDY_ACCESSION,
    BROKER_NAME,
    STATUS,
)
SAMPLE_FIELDS: tuple[str, ...] = (
    SAMPLE_ACCESSION,
    SECONDARY_SAMPLE_ACCESSION,
    SAMPLE_TITLE,
    SAMPLE_ALIAS,
    LAT,
    LON,
    LOCATION,
    COLLECTION_DATE,
    COUNTRY,
    DEPTH,
    ENVIRONMENT_BIOME,
    ENVIRONMENT_FEATURE,
    ENVIRONMENT_MATERIAL,
    HOST,
    HOST_TAX_ID,
    TAX_ID,
    SCIENTIFIC_NAME,
    CHECKLIST,
    CENTER_NAME,
    FIRST_PUBLIC,
    LAST_UPDATED,
)
READ_RUN_FIELDS: tuple[str, ...] = (
    RUN_ACCESSION,
    EXPERIMENT_ACCESSION,
    SAMPLE_ACCESSION,
    SECONDARY_SAMPLE_ACCESSION,
    STUDY_ACCESSION,
    SECONDARY_STUDY_ACCESSION,
    LIBRARY_STRATEGY,
    LIBRARY_LAYOUT,
    LIBRARY_SOURCE,
    LIBRARY_SELECTION,
    LIBRARY_NAME,
    INSTRUMENT_PLATFORM,
    INSTRUMENT_MODEL,
    FASTQ_FTP,
    FASTQ_MD5,
    FASTQ_BYTES,
    READ_COUNT,
    BASE_COUNT,
    FIRST_PUBLIC,
    LAST_UPDATED,
    SCIENTIFIC_NAME,
    TAX_ID,
    HOST_TAX_ID,
    SAMPLE_TITLE,
    LAT,
    LON,
    COLLECTION_DATE,
    COUNTRY,
)
ANALYSIS_FIELDS: tuple[str, ...] = (
    ANALYSIS_ACCESSION,
    ANALYSIS_TYPE,
    ASSEMBLY_TYPE,
    GENERATED_FTP,
    GENERATED_MD5,
    RUN_ACCESSION,
    SAMPLE_ACCESSION,
    SECONDARY_SAMPLE_ACCESSION,
    STUDY_ACCESSION,
    SECONDARY_STUDY_ACCESSION,
    COMPLETENESS_SCORE,
    CONTAMINATION_SCORE,
    ASSEMBLY_SOFTWARE,
    FIRST_PUBLIC,
)

#: The accession field ENA always returns for each result, asked for or not.
ACCESSION_FIELD: dict[ENAResult, str] = {
    ENAResult.STUDY: STUDY_ACCESSION,
    ENAResult.READ_STUDY: STUDY_ACCESSION,
    ENAResult.SAMPLE: SAMPLE_ACCESSION,
    ENAResult.READ_RUN: RUN_ACCESSION,
    ENAResult.ANALYSIS: ANALYSIS_ACCESSION,
}

#: Fields (returnable and searchable) per result. Samples also take their studies' accessions,
#: which ENA resolves through the sample-study links.
RESULT_FIELDS: dict[ENAResult, frozenset[str]] = {
    ENAResult.STUDY: frozenset(STUDY_FIELDS),
    ENAResult.READ_STUDY: frozenset(STUDY_FIELDS),
    ENAResult.SAMPLE: frozenset(SAMPLE_FIELDS) | {STUDY_ACCESSION, SECONDARY_STUDY_ACCESSION},
    ENAResult.READ_RUN: frozenset(READ_RUN_FIELDS),
    ENAResult.ANALYSIS: frozenset(ANALYSIS_FIELDS),
}


def unknown_fields(result: ENAResult, names: Iterable[str]) -> list[str]:
    """The names among ``names`` that ``result`` does not offer (empty when all are fine)."""
    allowed = RESULT_FIELDS[result]
    return [name for name in names if name not in allowed]
