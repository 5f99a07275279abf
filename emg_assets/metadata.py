"""Materialisation metadata helpers: Markdown tables and request statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

PREVIEW_ROWS = 10


def markdown_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], limit: int = PREVIEW_ROWS
) -> dg.MetadataValue:
    """The first ``limit`` rows as a Markdown table (a note says how many were left out)."""
    if not rows:
        return dg.MetadataValue.md("_none_")

    def cell(value: Any) -> str:
        return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")[:120]

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"\n_{len(rows) - limit} more not shown_")
    return dg.MetadataValue.md("\n".join(lines))
