"""The chunking of the ingest writes (emg_assets.ena.ingest)."""

from __future__ import annotations

import pytest

from emg_assets.ena import ingest


def test_chunks_cover_the_items_in_order() -> None:
    assert list(ingest.chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(ingest.chunked([], 3)) == []


@pytest.mark.parametrize(
    "chunks",
    [[["ERR1", "ERR2"], ["ERR3", "ERR1"]], [["ERR1", "ERR1"]]],
    ids=["across chunks", "within a chunk"],
)
def test_a_repeated_accession_fails_as_one_bulk_write_would(chunks) -> None:
    seen: set[str] = set()
    with pytest.raises(ValueError, match=r"duplicate run accession in ENA's answer: \['ERR1'\]"):
        for chunk in chunks:
            ingest._first_seen(chunk, seen, "run")
