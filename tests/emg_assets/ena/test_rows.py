"""ENA answers read one row at a time from the spooled body (emg_assets.ena.rows)."""

from __future__ import annotations

import io
import json

import pytest

from emg_assets.ena import rows

ROWS = [{"run_accession": f"ERR{i}", "title": "é" * i + "\u2603", "n": str(i)} for i in range(60)]


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
def test_rows_are_decoded_across_chunk_boundaries(monkeypatch, indent) -> None:
    monkeypatch.setattr(rows, "READ_CHUNK_BYTES", 7)  # splits objects and UTF-8 characters
    body = json.dumps(ROWS, indent=indent, ensure_ascii=False).encode()
    answer = rows.SpooledRows(io.BytesIO(body), "http://ena/search")
    assert not answer.empty and answer.count == len(ROWS)
    assert list(answer) == ROWS
    with pytest.raises(RuntimeError, match="once"):
        list(answer)


@pytest.mark.parametrize("body", [b"", b"  ", b"[]", b" [ \n ] ", b"\xef\xbb\xbf[]"])
def test_empty_answers(body: bytes) -> None:
    answer = rows.SpooledRows(io.BytesIO(body))
    assert answer.empty and list(answer) == []


@pytest.mark.parametrize(
    "body",
    [
        b'[{"a": "1"}, {"b":',  # cut off
        b'[{"a": "1"}, {"b": "x]',  # cut off right after a "]" inside a value
        b'[{"a": "1"}]]',  # data after the array
        b'[{"a": "\xff"}]',  # not UTF-8
        b"[" + b" " * 20,  # no element, no end
    ],
)
def test_invalid_json_is_found_before_any_row_is_used(body: bytes) -> None:
    """The answer is checked whole when it arrives, so the client retries it (as a cut-off
    answer usually is fixed by a retry) instead of failing half-way through an ingest."""
    file = io.BytesIO(body)
    with pytest.raises(rows.InvalidAnswer, match="invalid JSON from ENA"):
        rows.SpooledRows(file)
    assert file.closed


@pytest.mark.parametrize("body", [b'{"message": "oops"}', b'[{"a": "1"}, 3]', b'"text"'])
def test_valid_json_of_the_wrong_shape_is_malformed(body: bytes) -> None:
    with pytest.raises(rows.MalformedAnswer):
        rows.SpooledRows(io.BytesIO(body))


def test_rows_are_released_when_not_read() -> None:
    file = io.BytesIO(json.dumps(ROWS).encode())
    with rows.SpooledRows(file) as answer:
        assert answer.count == len(ROWS)
    assert file.closed


def test_a_large_answer_goes_to_disk(monkeypatch) -> None:
    class Streamed:
        def iter_bytes(self):
            yield b"["
            for i, row in enumerate(ROWS):
                yield (b"," if i else b"") + json.dumps(row).encode()
            yield b"]"

    monkeypatch.setattr(rows, "SPOOL_IN_MEMORY_BYTES", 100)
    body = rows.spool(Streamed())  # type: ignore[arg-type]
    assert body._rolled  # type: ignore[attr-defined]  (SpooledTemporaryFile: now a real file)
    assert list(rows.SpooledRows(body)) == ROWS
