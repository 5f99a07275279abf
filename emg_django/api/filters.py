"""Query-parameter schemas shared by the list endpoints."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

from emg_django.api.queries import MAX_SEARCH_LENGTH

#: ``root`` then ``:``-separated names, no control characters.
LINEAGE_PATTERN = r"^root(:[^:\x00-\x1f]+)*$"
MAX_LINEAGE_LENGTH = 255


class BiomeFilter(Schema):
    """Filter by biome: the given lineage and everything under it."""

    biome_lineage: str | None = Field(
        None, max_length=MAX_LINEAGE_LENGTH, pattern=LINEAGE_PATTERN,
        description="A biome lineage, e.g. `root:Environmental:Aquatic`; its sub-biomes are included.",
        examples=["root:Environmental:Aquatic"],
    )


class SearchFilter(Schema):
    """Free-text search: accession-shaped terms are looked up exactly, other text in titles."""

    search: str | None = Field(
        None, max_length=MAX_SEARCH_LENGTH,
        description="An accession (exact match) or words of the title (case-insensitive).",
    )


class StudyAccessionFilter(Schema):
    """Filter by the study (MGYS) the objects belong to."""

    study_accession: str | None = Field(None, max_length=40, description="An MGnify study accession (MGYS…).")
