"""What the fake ENA knows: results, their fields, field types, and a tiny taxonomy.

Kept separate from the client's own field lists on purpose: the fake plays ENA, so a field the
client asks for that ENA would not offer must fail here too (a shared list would hide it).
"""

from __future__ import annotations

import enum


class FieldType(enum.Enum):
    """How the fake compares a field's values in a query."""

    TEXT = "text"
    DATE = "date"
    NUMBER = "number"


class Kind(enum.StrEnum):
    """The record stores of the fake (a ``result`` reads one of them)."""

    STUDY = "study"
    SAMPLE = "sample"
    RUN = "read_run"
    ANALYSIS = "analysis"


STUDY_FIELDS = (
    "study_accession", "secondary_study_accession", "study_title", "study_description",
    "study_name", "study_alias", "center_name", "first_public", "last_updated", "tax_id",
    "scientific_name", "parent_study_accession", "broker_name", "status", "keywords",
)  # fmt: skip
SAMPLE_FIELDS = (
    "sample_accession", "secondary_sample_accession", "sample_title", "sample_alias",
    "description", "lat", "lon", "location", "collection_date", "country", "depth",
    "environment_biome", "environment_feature", "environment_material", "host", "host_tax_id",
    "tax_id", "scientific_name", "checklist", "center_name", "first_public", "last_updated",
    "study_accession", "secondary_study_accession", "status",
)  # fmt: skip
RUN_FIELDS = (
    "run_accession", "experiment_accession", "sample_accession", "secondary_sample_accession",
    "study_accession", "secondary_study_accession", "library_strategy", "library_layout",
    "library_source", "library_selection", "library_name", "instrument_platform",
    "instrument_model", "fastq_ftp", "fastq_md5", "fastq_bytes", "submitted_ftp", "read_count",
    "base_count", "first_public", "last_updated", "scientific_name", "tax_id", "host_tax_id",
    "sample_title", "sample_alias", "experiment_title", "lat", "lon", "collection_date",
    "country", "center_name", "status",
)  # fmt: skip
ANALYSIS_FIELDS = (
    "analysis_accession", "analysis_type", "analysis_title", "assembly_type", "generated_ftp",
    "generated_md5", "generated_bytes", "run_accession", "sample_accession",
    "secondary_sample_accession", "study_accession", "secondary_study_accession",
    "completeness_score", "contamination_score", "assembly_software", "first_public",
    "last_updated", "tax_id", "scientific_name", "center_name", "status",
)  # fmt: skip

KIND_FIELDS: dict[Kind, frozenset[str]] = {
    Kind.STUDY: frozenset(STUDY_FIELDS),
    Kind.SAMPLE: frozenset(SAMPLE_FIELDS),
    Kind.RUN: frozenset(RUN_FIELDS),
    Kind.ANALYSIS: frozenset(ANALYSIS_FIELDS),
}
#: The accession field of each store (always returned).
ACCESSION_FIELD: dict[Kind, str] = {
    Kind.STUDY: "study_accession",
    Kind.SAMPLE: "sample_accession",
    Kind.RUN: "run_accession",
    Kind.ANALYSIS: "analysis_accession",
}
#: ``result`` values the fake answers, and the store each reads.
RESULTS: dict[str, Kind] = {
    "study": Kind.STUDY,
    "read_study": Kind.STUDY,
    "sample": Kind.SAMPLE,
    "read_run": Kind.RUN,
    "analysis": Kind.ANALYSIS,
}

FIELD_TYPES: dict[str, FieldType] = {
    **{name: FieldType.DATE for name in ("first_public", "last_updated", "collection_date")},
    **{
        name: FieldType.NUMBER
        for name in (
            "tax_id", "host_tax_id", "read_count", "base_count", "fastq_bytes", "lat", "lon",
            "completeness_score", "contamination_score", "generated_bytes",
        )
    },
}  # fmt: skip

#: A sliver of the NCBI taxonomy for ``tax_tree``: parent → direct children.
TAXONOMY_CHILDREN: dict[int, tuple[int, ...]] = {
    # "metagenomes" (unclassified sequences) and the metagenome taxa the fixtures use.
    408169: (256318, 410658, 412755, 1602388, 749906, 408172, 1256227, 527639, 1504969),
    # "metagenome" itself has no children; host-associated ones listed above.
}


def tax_descendants(tax_id: int) -> frozenset[int]:
    """``tax_id`` and every taxon below it in :data:`TAXONOMY_CHILDREN`."""
    found = {tax_id}
    pending = [tax_id]
    while pending:
        for child in TAXONOMY_CHILDREN.get(pending.pop(), ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return frozenset(found)
