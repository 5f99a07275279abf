"""Taxonomy and functional tables of one result dir, as annotation rows.

Validation follows the rules of ``mgnify-pipelines-toolkit``'s pandera schemas (taxa are
``<rank>__<name>`` with the database's short rank prefixes, or ``Unclassified``; counts are
non-negative integers), written against the files directly: the toolkit itself pins
``pydantic<2.12`` and ``click~=8.1``, which conflict with the platform's pins.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from emg_assets.analyses.pipelines import (
    ID,
    FunctionTable,
    FunctionTableFormat,
    TaxonomyTable,
)
from emg_assets.analyses.results.errors import ResultError
from emg_django.analyses.schemas import AnnotationItem

#: Short rank prefixes allowed in taxa (SILVA, PR2, mOTUs and NCBI ranks together).
RANK_PREFIXES = frozenset({"sk", "k", "p", "c", "o", "f", "g", "s", "d", "sg", "dv", "sdv"})
UNCLASSIFIED = frozenset({"unclassified", "unassigned"})
LINEAGE_SEPARATOR = ";"


def open_text(path: Path) -> io.TextIOBase:
    """A text handle on a plain or gzipped file."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8")
    return path.open(encoding="utf-8")


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        with open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                line = line.rstrip("\n\r")
                if line.strip():
                    yield number, line.split("\t")
    except (OSError, EOFError, UnicodeDecodeError) as exc:  # truncated gzip, binary junk
        raise ResultError(f"unreadable: {exc}", path) from exc


def _count(value: str, path: Path, number: int) -> int:
    try:
        count = int(float(value)) if value.strip().lower() not in ("", "nan") else -1
    except ValueError:
        count = -1
    if count < 0:
        raise ResultError(f"line {number}: count {value!r} is not a non-negative integer", path)
    return count


def _taxon(value: str, path: Path, number: int) -> str:
    value = value.strip()
    if not value or value.lower() in UNCLASSIFIED:
        return value
    rank, sep, _ = value.partition("__")
    if not sep or (rank and rank not in RANK_PREFIXES):
        raise ResultError(f"line {number}: taxon {value!r} is not `<rank>__<name>`", path)
    return value


def parse_krona_table(path: Path, table: TaxonomyTable) -> Counter[str]:
    """``{lineage: count}`` of a Krona text table (``count<TAB>taxon<TAB>taxon…``).

    :raises ResultError: on a bad count, a malformed taxon or too many columns.
    """
    lineages: Counter[str] = Counter()
    for number, fields in _lines(path):
        if table.header and number == 1:
            continue
        if len(fields) > len(table.ranks) + 1:
            raise ResultError(
                f"line {number}: {len(fields) - 1} ranks, at most {len(table.ranks)} expected",
                path,
            )
        count = _count(fields[0], path, number)
        taxa = [_taxon(value, path, number) for value in fields[1:]]
        lineage = LINEAGE_SEPARATOR.join(t for t in taxa if t) or "Unclassified"
        lineages[lineage] += count
    return lineages


def table_paths(
    result_dir: Path, template: str, accession: str, exclude: str | None = None
) -> list[Path]:
    """The files a template names (several if it globs), sorted."""
    relative = template.replace(ID, accession)
    if "*" not in relative:
        path = result_dir / relative
        return [path] if path.is_file() else []
    return sorted(
        p for p in result_dir.glob(relative) if p.is_file() and not (exclude and exclude in p.name)
    )


def read_taxonomy(
    result_dir: Path, table: TaxonomyTable, accession: str
) -> list[AnnotationItem] | None:
    """The database's organisms with counts, most abundant first; ``None`` if absent.

    ASV tables come one per amplified region: their counts are added up per lineage.
    """
    paths = table_paths(result_dir, table.table, accession, table.exclude)
    if not paths:
        return None
    total: Counter[str] = Counter()
    for path in paths:
        total.update(parse_krona_table(path, table))
    return [
        AnnotationItem(organism=lineage, count=count)
        for lineage, count in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


_FUNCTION_COLUMNS = {
    FunctionTableFormat.READ_PROFILE: ("function", "read_count"),
    FunctionTableFormat.PFAM_SUMMARY: ("pfam", "count"),
}


def read_functions(
    result_dir: Path, table: FunctionTable, accession: str
) -> list[AnnotationItem] | None:
    """The functional summary's accessions with counts; ``None`` if absent.

    :raises ResultError: on missing columns or a bad count.
    """
    path = result_dir / table.table.replace(ID, accession)
    if not path.is_file():
        return None
    key_column, count_column = _FUNCTION_COLUMNS[table.format]
    try:
        with open_text(path) as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            missing = {key_column, count_column} - set(reader.fieldnames or ())
            if missing:
                raise ResultError(f"missing columns {sorted(missing)}", path)
            items = []
            for number, row in enumerate(reader, start=2):
                key = (row.get(key_column) or "").strip()
                if not key:
                    raise ResultError(f"line {number}: empty {key_column}", path)
                items.append(
                    AnnotationItem(
                        accession=key,
                        description=(row.get("description") or None),
                        count=_count(row.get(count_column) or "", path, number),
                    )
                )
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ResultError(f"unreadable: {exc}", path) from exc
    items.sort(key=lambda item: (-item.count, item.accession or ""))
    return items
