"""ENA answers read one row at a time from the spooled body (emg_assets.ena.rows)."""

from __future__ import annotations

import io
import json

import pytest

from emg_assets.ena import rows
from emg_assets.ena.errors import ENAResponseError

ROWS = [{"run_accession": f"ERR{i}", "title": "é" * i + "\u2603", "n": str(i)} for i in range(60)]


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
def test_rows_are_decoded_across_chunk_boundaries(monkeypatch, indent) -> None:
    monkeypatch.setattr(rows, "READ_CHUNK_BYTES", 7)  # splits objects and UTF-8 characters
    body = json.dumps(ROWS, indent=indent, ensure_ascii=False).encode()
    counted: list[int] = []
    answer = rows.SpooledRows(io.BytesIO(body), "http://ena/search", on_done=counted.append)
    assert not answer.empty
    assert list(answer) == ROWS
    assert counted == [len(ROWS)]
    with pytest.raises(RuntimeError, match="once"):
        list(answer)


@pytest.mark.parametrize("body", [b"", b"  ", b"[]", b" [ \n ] "])
def test_empty_answers(body: bytes) -> None:
    answer = rows.SpooledRows(io.BytesIO(body))
    assert answer.empty and list(answer) == []


def test_a_cut_off_answer_is_told_apart_from_a_malformed_one() -> None:
    with pytest.raises(rows.TruncatedAnswer, match="cut off after 18 bytes"):
        rows.SpooledRows(io.BytesIO(b'[{"a": "1"}, {"b":'))
    with pytest.raises(rows.MalformedAnswer, match="JSON array"):
        rows.SpooledRows(io.BytesIO(b'{"message": "oops"}'))


def test_a_bad_element_mid_answer_names_the_url_and_the_rows_read() -> None:
    body = b'[{"a": "1"}, {"a": "2"}, 3, {"a": "4"}]'
    answer = rows.SpooledRows(io.BytesIO(body), "http://ena/search?x")
    read = []
    with pytest.raises(ENAResponseError, match=r"after 2 rows\): http://ena/search\?x") as error:
        read.extend(answer)
    assert read == [{"a": "1"}, {"a": "2"}] and error.value.url == "http://ena/search?x"


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
