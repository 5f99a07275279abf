"""Page-number pagination of the list endpoints: ``{"count": N, "items": [...]}``.

The count decides the speed of a list endpoint on large tables (see ENVIRONMENT.md), so every
list counts through :func:`count_rows` and nowhere else: that is the one place to change when
unfiltered counts become estimates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field

from emg_django.api.errors import not_found
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


class Paged(Schema, Generic[ItemT]):
    """One page of a list: the total number of items and this page's items."""

    count: int = Field(..., description="Number of items over all pages.")
    items: list[ItemT]


def count_rows(queryset: QuerySet) -> int:
    """The number of rows of ``queryset`` (exact for now; the one place for estimates later).

    :param queryset: the filtered queryset, before any ``values()`` projection (joins the
        projection adds would otherwise end up in the count).
    """
    return queryset.count()


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
    """One page of ``queryset``: two queries, the count and the page's rows.

    :param queryset: filtered and ordered, model rows (not yet projected).
    :param params: the caller's page and page size.
    :param fields: the columns of a list item (``values()`` of them: no deferred big fields).
    :param to_item: turns one row into one list item.
    :raises HttpError: 404 when ``params.page`` is past the last page.
    """
    count = count_rows(queryset)
    start = _first_index(count, params)
    rows = queryset.values(*fields)[start : start + params.page_size]
    return {"count": count, "items": [to_item(row) for row in rows]}


def paginate_list(items: list[Any], params: PageParams) -> Row:
    """One page of an in-memory list (e.g. an analysis's annotations of one type)."""
    count = len(items)
    start = _first_index(count, params)
    return {"count": count, "items": items[start : start + params.page_size]}
