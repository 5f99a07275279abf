"""Materialisation metadata helpers: Markdown tables and request statistics."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

import dagster as dg

PREVIEW_ROWS = 10

ItemT = TypeVar("ItemT")


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    limit: int = PREVIEW_ROWS,
    total: int | None = None,
) -> dg.MetadataValue:
    """The first ``limit`` rows as a Markdown table (a note says how many were left out).

    :param total: how many rows there were, when ``rows`` holds only the first ones.
    """
    if not rows:
        return dg.MetadataValue.md("_none_")
    total = len(rows) if total is None else total

    def cell(value: Any) -> str:
        return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")[:120]

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows[:limit]]
    if total > limit:
        lines.append(f"\n_{total - limit} more not shown_")
    return dg.MetadataValue.md("\n".join(lines))


class Preview(Generic[ItemT]):
    """Passes items through, keeping the first ``limit`` and counting them all: the preview
    table of a stream that is written and forgotten as it goes."""

    def __init__(self, items: Iterable[ItemT], limit: int = PREVIEW_ROWS) -> None:
        self._items = items
        self.limit = limit
        self.first: list[ItemT] = []
        self.total = 0

    def __iter__(self) -> Iterator[ItemT]:
        for item in self._items:
            if self.total < self.limit:
                self.first.append(item)
            self.total += 1
            yield item
