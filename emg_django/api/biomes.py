"""``/biomes/``: the biome hierarchy."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from emg_django.analyses.models import Biome
from emg_django.api.errors import ErrorSchema
from emg_django.api.filters import BiomeFilter
from emg_django.api.pagination import Paged, PageParams, paginate
from emg_django.api.schemas.common import BiomeSchema

TAG = "Biomes"
router = Router(tags=[TAG])

BIOME_COLUMNS = ("biome_name", "lineage")
#: Deeper than any GOLD lineage; bounds the parameter.
MAX_DEPTH = 32


class BiomeListFilters(BiomeFilter):
    max_depth: int | None = Field(
        None,
        ge=1,
        le=MAX_DEPTH,
        description="Deepest level listed: `root` is 1, `root:Host-associated:Human` 3.",
    )


def _biome_item(row: dict) -> dict:
    return {"biome_name": row["biome_name"], "lineage": row["lineage"]}


@router.get(
    "/",
    response={200: Paged[BiomeSchema], 400: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema},
    operation_id="list_mgnify_biomes",
    summary="List biomes",
    description="The biome hierarchy, by lineage; "
    "filter to a lineage's sub-tree and a maximum depth.",
)
def list_biomes(
    request: HttpRequest, params: Query[PageParams], filters: Query[BiomeListFilters]
) -> dict:
    queryset = (
        Biome.objects.under(filters.biome_lineage) if filters.biome_lineage else Biome.objects.all()
    )
    if filters.max_depth:
        queryset = queryset.filter(depth__lte=filters.max_depth)
    return paginate(queryset.order_by("lineage"), params, BIOME_COLUMNS, _biome_item)
