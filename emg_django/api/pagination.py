"""Page-number pagination of the list endpoints: ``{"count": N, "items": [...]}``.

The count and the page's offset decide the speed of a list endpoint on large tables (see
ENVIRONMENT.md and ``bench/api_scale``), so every list goes through :func:`count_of` and
:func:`page_rows`:

- **count**: exact whenever the list has at most :data:`EXACT_COUNT_LIMIT` items, on small
  tables (at most :data:`SMALL_TABLE_ROWS` rows, or never analysed) and on SQLite; a page that is
  not full gives it without counting. Above the limit, on Postgres, it is the query planner's
  estimate of the filtered query (``EXPLAIN``: table statistics, refreshed by autovacuum's
  ``ANALYZE``), never below :data:`EXACT_COUNT_LIMIT` + 1. On tables above
  :data:`SMALL_TABLE_ROWS` rows a list's count is cached for :data:`COUNT_TTL_SECONDS` (Django's
  cache). An exact ``COUNT(*)`` over a million visible rows costs 0.1–0.6 s of Postgres per
  request; the estimate ~0.5 ms, and nothing when cached.
- **deep pages**: past :data:`DEEP_OFFSET` rows a page is found by seeking (``WHERE key <= v``)
  from the nearest *anchor* — every :data:`ANCHOR_STEP`-th value of the ordering's first column,
  computed for that list (query and ordering) in one index scan and cached for
  :data:`ANCHOR_TTL_SECONDS` in Django's cache — instead of ``OFFSET``-ing over up to hundreds of
  thousands of rows. The rows are the same as ``OFFSET`` would give on the anchors' snapshot.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.expressions import Window
from django.db.models.functions import Rank, RowNumber
from ninja import Schema
from pydantic import Field

from emg_django.api.errors import not_found
from emg_django.api.schemas.base import OutputSchema
from emg_django.config import get_config

ItemT = TypeVar("ItemT")
Row = dict[str, Any]

_API_CONFIG = get_config().api
DEFAULT_PAGE_SIZE = _API_CONFIG.default_page_size
MAX_PAGE_SIZE = _API_CONFIG.max_page_size


class PageParams(Schema):
    """The ``page`` and ``page_size`` query parameters of every list."""

    page: int = Field(1, ge=1, description="Page number, from 1.")
    page_size: int = Field(
        DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Items per page (at most {MAX_PAGE_SIZE}).",
    )


class Paged(OutputSchema, Generic[ItemT]):
    """One page of a list: the total number of items and this page's items."""

    count: int = Field(
        ...,
        description="Number of items over all pages: exact up to 10,000; above that, an estimate "
        "from the database's statistics (usually within a few per cent).",
    )
    items: list[ItemT]


#: Lists of at most this many items are counted exactly.
EXACT_COUNT_LIMIT = 10_000
#: Tables the statistics say hold at most this many rows (or never analysed) are always counted
#: exactly, uncached.
SMALL_TABLE_ROWS = 1_000
#: Seconds the count of a list over a larger table is reused (Django's cache), by query.
COUNT_TTL_SECONDS = 60
#: Seconds a table found large by ``pg_class`` is taken as large without asking (per process).
TABLE_ROWS_TTL_SECONDS = 60.0
#: Pages starting past this many rows are empty without asking the database for them.
MAX_OFFSET = 2**31
#: Pages starting past this many rows are found from anchors, not by OFFSET.
DEEP_OFFSET = 10_000
#: One anchor every this many rows: the most a deep page still OFFSETs over.
ANCHOR_STEP = 1_000
#: Seconds the anchors of a list are reused (Django's cache: per process unless shared).
ANCHOR_TTL_SECONDS = 300

_large_tables: dict[tuple[str, str], float] = {}


@dataclass(frozen=True)
class Count:
    """A list's number of items, and whether it is exact or an estimate."""

    value: int
    exact: bool


def _is_postgres(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def _small_table_count(queryset: QuerySet) -> int | None:
    """The exact count of ``queryset`` when its table is small (at most :data:`SMALL_TABLE_ROWS`
    rows by ``pg_class.reltuples``, or never analysed), in one query; ``None`` for a large table
    (remembered per process for :data:`TABLE_ROWS_TTL_SECONDS`: a large table stays large)."""
    table = queryset.model._meta.db_table
    key = (queryset.db, table)
    seen = _large_tables.get(key)
    if seen is not None and time.monotonic() - seen < TABLE_ROWS_TTL_SECONDS:
        return None
    try:
        inner, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a condition Django knows matches nothing (e.g. ``IN ()``)
        return 0
    # The count is a lazily evaluated InitPlan: it only runs for a small table.
    sql = (
        "SELECT CASE WHEN coalesce((SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)),"
        f" -1) <= %s THEN (SELECT count(*) FROM ({inner}) AS counted) END"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, (table, SMALL_TABLE_ROWS, *params))
        count = cursor.fetchone()[0]
    if count is None:
        _large_tables[key] = time.monotonic()
        return None
    return int(count)


def _planner_rows(queryset: QuerySet) -> int:
    """The planner's estimate of the number of rows of ``queryset`` (``EXPLAIN``, not run)."""
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def count_of(queryset: QuerySet) -> Count:
    """The number of rows of ``queryset``: exact up to :data:`EXACT_COUNT_LIMIT`, else (on
    Postgres) the planner's estimate. On tables above :data:`SMALL_TABLE_ROWS` rows the result
    is cached for :data:`COUNT_TTL_SECONDS` per query (so it may lag writes by that much).

    :param queryset: the filtered queryset, before any ``values()`` projection (joins the
        projection adds would otherwise end up in the count).
    """
    if not _is_postgres(queryset):
        return Count(queryset.count(), exact=True)
    small = _small_table_count(queryset)
    if small is not None:
        return Count(small, exact=True)
    counted = queryset.order_by().values("pk")
    try:
        compiled, params = counted.query.sql_with_params()
    except EmptyResultSet:
        return Count(0, exact=True)
    key = (
        "emg-api-count:"
        + hashlib.sha256(repr((queryset.db, compiled, params)).encode()).hexdigest()
    )
    cached = cache.get(key)
    if cached is not None:
        return Count(*cached)
    # Counting stops after EXACT_COUNT_LIMIT + 1 rows: exact for most lists (a study's
    # analyses) in one query; only longer lists are also planned for the estimate.
    bounded = counted[: EXACT_COUNT_LIMIT + 1].count()
    if bounded <= EXACT_COUNT_LIMIT:
        result = Count(bounded, exact=True)
    else:
        result = Count(max(_planner_rows(queryset), EXACT_COUNT_LIMIT + 1), exact=False)
    cache.set(key, (result.value, result.exact), COUNT_TTL_SECONDS)
    return result


def count_rows(queryset: QuerySet) -> int:
    """The ``count`` of a list of ``queryset``: see :func:`count_of`."""
    return count_of(queryset).value


def _first_order_column(queryset: QuerySet) -> tuple[str, bool] | None:
    """The first ordering column of ``queryset`` and whether it is descending, when it is a
    plain column of the model (anchors need one); ``None`` otherwise."""
    ordering = queryset.query.order_by or queryset.model._meta.ordering
    if not ordering or not isinstance(ordering[0], str):
        return None
    first = ordering[0]
    descending = first.startswith("-")
    name = first.lstrip("-")
    if name == "pk":
        name = queryset.model._meta.pk.name
    if "__" in name or name.startswith("?"):
        return None
    try:
        field = queryset.model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - an annotation or unknown name: no anchors
        return None
    if getattr(field, "null", True) or not getattr(field, "concrete", False):
        return None  # NULLs would need their own seek
    return field.attname, descending


def _anchors(queryset: QuerySet, column: str, descending: bool) -> list[tuple[Any, int]]:
    """Every :data:`ANCHOR_STEP`-th value of ``column`` in the list's order, with the number of
    rows before the first row holding that value: ``[(value, rows_before), …]``, cached."""
    try:
        compiled, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return []
    key = (
        "emg-api-anchors:"
        + hashlib.sha256(
            repr((queryset.db, column, descending, compiled, params)).encode()
        ).hexdigest()
    )
    anchors = cache.get(key)
    if anchors is not None:
        return anchors
    order = F(column).desc() if descending else F(column).asc()
    windowed = (
        queryset.order_by()
        .annotate(
            anchor_rn=Window(RowNumber(), order_by=order),
            anchor_rank=Window(Rank(), order_by=order),
        )
        .values_list(column, "anchor_rn", "anchor_rank")
    )
    sql, params = windowed.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM ({sql}) AS anchored(value, rn, rnk) "
            f"WHERE mod(rn - 1, {int(ANCHOR_STEP)}) = 0 ORDER BY rn",
            params,
        )
        anchors = [(value, int(rank) - 1) for value, _, rank in cursor.fetchall()]
    cache.set(key, anchors, ANCHOR_TTL_SECONDS)
    return anchors


def _skipped_then_projected(
    queryset: QuerySet, skip: int, size: int, fields: Iterable[str]
) -> list[Row]:
    """Rows ``skip`` to ``skip + size`` of ``queryset``: the first page in one query; later ones
    skip over keys alone, then project the page's rows. (Postgres applies OFFSET after the joins
    of the projection: an analysis list would join run, sample and biome for every row skipped.)
    """
    if skip == 0:
        return list(queryset.values(*fields)[:size])
    keys = list(queryset.values_list("pk", flat=True)[skip : skip + size])
    if not keys:
        return []
    position = {key: index for index, key in enumerate(keys)}
    rows = list(queryset.order_by().filter(pk__in=keys).values("pk", *fields))
    rows.sort(key=lambda row: position[row["pk"]])
    return rows


def page_rows(queryset: QuerySet, start: int, size: int, fields: Iterable[str]) -> list[Row]:
    """Rows ``start`` to ``start + size`` of the ordered ``queryset`` (``values()`` of
    ``fields``): by OFFSET near the start, by seeking from an anchor for deep pages."""
    if start >= DEEP_OFFSET and _is_postgres(queryset):
        first = _first_order_column(queryset)
        if first is not None:
            column, descending = first
            anchors = _anchors(queryset, column, descending)
            index = bisect.bisect_right([before for _, before in anchors], start) - 1
            if index >= 0:
                value, before = anchors[index]
                lookup = f"{column}__lte" if descending else f"{column}__gte"
                seek = queryset.filter(**{lookup: value})
                return _skipped_then_projected(seek, start - before, size, fields)
    return _skipped_then_projected(queryset, start, size, fields)


def last_page(count: int, page_size: int) -> int:
    """The last valid page number (1 for an empty list)."""
    return max(1, math.ceil(count / page_size))


def _first_index(count: int, params: PageParams) -> int:
    """Index of the page's first item.

    :raises HttpError: 404 when the page is past the last page.
    """
    final = last_page(count, params.page_size)
    if params.page > final:
        raise not_found(f"Invalid page: {params.page} (the last page is {final})")
    return (params.page - 1) * params.page_size


def paginate(
    queryset: QuerySet,
    params: PageParams,
    fields: Iterable[str],
    to_item: Callable[[Row], Row],
) -> Row:
    """One page of ``queryset``: its count (:func:`count_of`) and the page's rows
    (:func:`page_rows`).

    :param queryset: filtered and ordered, model rows (not yet projected).
    :param params: the caller's page and page size.
    :param fields: the columns of a list item (``values()`` of them: no deferred big fields).
    :param to_item: turns one row into one list item.
    :raises HttpError: 404 when ``params.page`` is past the last page (for an estimated count:
        when the page is empty).
    """
    small = _small_table_count(queryset) if _is_postgres(queryset) else queryset.count()
    if small is not None:
        # Small tables: the exact count, then the page (the 404 names the last page).
        count = Count(small, exact=True)
        start = _first_index(count.value, params)
        rows = page_rows(queryset, start, params.page_size, fields)
        return {"count": count.value, "items": [to_item(row) for row in rows]}
    start = (params.page - 1) * params.page_size
    # Past any real list (and past what OFFSET accepts): answered from the count alone.
    rows = page_rows(queryset, start, params.page_size, fields) if start < MAX_OFFSET else []
    if rows and len(rows) < params.page_size or not rows and params.page == 1:
        # The last page: the count is known without counting.
        count = Count(start + len(rows), exact=True)
    else:
        count = count_of(queryset)
        if not rows:
            if count.exact:
                _first_index(count.value, params)  # raises the 404 naming the last page
            raise not_found(f"Invalid page: {params.page} (past the last page)")
    return {"count": count.value, "items": [to_item(row) for row in rows]}


def paginate_list(items: list[Any], params: PageParams) -> Row:
    """One page of an in-memory list (e.g. an analysis's annotations of one type)."""
    count = len(items)
    start = _first_index(count, params)
    return {"count": count, "items": items[start : start + params.page_size]}
