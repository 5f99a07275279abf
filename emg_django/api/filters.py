"""Query-parameter schemas shared by the list endpoints."""

from __future__ import annotations

import re

from ninja import Schema
from pydantic import Field, field_validator

from emg_django.api.queries import MAX_SEARCH_LENGTH

#: ``root`` then ``:``-separated names, no control characters (a trailing ``:`` is tolerated).
LINEAGE_PATTERN = re.compile(r"root(:[^:\x00-\x1f]+)*:?")
MAX_LINEAGE_LENGTH = 255


class BiomeFilter(Schema):
    """Filter by biome: the given lineage and everything under it."""

    biome_lineage: str | None = Field(
        None,
        max_length=MAX_LINEAGE_LENGTH,
        description="A biome lineage, e.g. `root:Environmental:Aquatic`; "
        "its sub-biomes are included.",
        examples=["root:Environmental:Aquatic"],
        # Documented (anchored, as JSON Schema patterns are not); checked by the validator below.
        json_schema_extra={"pattern": f"^{LINEAGE_PATTERN.pattern}$"},
    )

    @field_validator("biome_lineage")
    @classmethod
    def _lineage_shape(cls, value: str | None) -> str | None:
        if value is not None and not LINEAGE_PATTERN.fullmatch(value):
            raise ValueError(
                "expected a lineage such as root:Environmental:Aquatic "
                "('root', then ':'-separated names)"
            )
        return value


class SearchFilter(Schema):
    """Free-text search: accession-shaped terms are looked up exactly, other text in titles."""

    search: str | None = Field(
        None,
        max_length=MAX_SEARCH_LENGTH,
        description="An accession (exact match) or words of the title (case-insensitive).",
    )


class StudyAccessionFilter(Schema):
    """Filter by the study (MGYS) the objects belong to."""

    study_accession: str | None = Field(
        None, max_length=40, description="An MGnify study accession (MGYS…)."
    )
