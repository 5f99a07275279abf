"""A ``/search`` answer kept on disk and read one row at a time.

A study's read runs can be hundreds of thousands of rows (~1 KB each as JSON): held in memory as
bytes, then as dicts, then as records, they cost over a gigabyte (bench/RESULTS.md). The client
spools the answer to a temporary file while it downloads (retrying a cut-off answer as before),
and the ingest reads rows from it in order, parsing and writing them in chunks.
"""

from __future__ import annotations

import codecs
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

import httpx

from emg_assets.ena.errors import ENAResponseError

#: Answers up to this size stay in memory; larger ones go to a temporary file.
SPOOL_IN_MEMORY_BYTES = 4 * 1024 * 1024
#: Bytes read from the spool at a time.
READ_CHUNK_BYTES = 1024 * 1024
#: Longest row (as JSON text) the reader accepts.
MAX_ROW_CHARS = 4 * READ_CHUNK_BYTES

Row = dict[str, str]


class TruncatedAnswer(ValueError):
    """The answer does not end as a JSON array does: cut off in transit."""


class MalformedAnswer(ValueError):
    """The answer is complete but not a JSON array of objects."""


def spool(response: httpx.Response) -> IO[bytes]:
    """The body of a streamed ``response``, written to a (spooled) temporary file, rewound.

    :raises httpx.TransportError: the connection broke while the body was read.
    """
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    try:
        for chunk in response.iter_bytes():
            file.write(chunk)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file


def _first_byte(file: IO[bytes]) -> bytes:
    """The first non-blank byte of ``file`` (``b""`` when it is blank)."""
    file.seek(0)
    while block := file.read(4096):
        stripped = block.lstrip()
        if stripped:
            return stripped[:1]
    return b""


def _last_byte(file: IO[bytes]) -> bytes:
    """The last non-blank byte of ``file`` (``b""`` when it is blank)."""
    position = file.seek(0, 2)
    while position > 0:
        start = max(0, position - 4096)
        file.seek(start)
        stripped = file.read(position - start).rstrip()
        if stripped:
            return stripped[-1:]
        position = start
    return b""


class SpooledRows(Iterable[Row]):
    """The rows of a spooled JSON array answer, decoded lazily, once.

    :param file: the spooled body (closed when the rows have been read, or on :meth:`close`).
    :param url: the request's URL, for errors.
    :param on_done: called with the number of rows once all were read.
    :raises TruncatedAnswer: at construction, when the body does not end with ``]``.
    :raises MalformedAnswer: at construction, for a body that is not an array.
    :raises ENAResponseError: while reading, for an element that is not a JSON object.
    """

    def __init__(
        self, file: IO[bytes], url: str = "", on_done: Callable[[int], None] | None = None
    ) -> None:
        self._file = file
        self.url = url
        self._on_done = on_done
        first, last = _first_byte(file), _last_byte(file)
        if first and first != b"[":
            file.close()
            raise MalformedAnswer(f"expected a JSON array of objects, got {first!r}…")
        if first and last != b"]":
            size = file.seek(0, 2)
            file.close()
            raise TruncatedAnswer(f"invalid JSON from ENA: the array is cut off after {size} bytes")
        self.empty = not first or _is_empty_array(file)
        file.seek(0)
        self._used = False

    def close(self) -> None:
        self._file.close()

    def __iter__(self) -> Iterator[Row]:
        if self._used:
            raise RuntimeError("the rows of an ENA answer can be read once")
        self._used = True
        count = 0
        try:
            if not self.empty:
                for row in _objects(self._file):
                    count += 1
                    yield row
        except MalformedAnswer as error:
            raise ENAResponseError(f"{error} (after {count} rows): {self.url}", self.url) from error
        finally:
            self.close()
        if self._on_done is not None:
            self._on_done(count)


def _is_empty_array(file: IO[bytes]) -> bool:
    file.seek(0)
    head = file.read(4096).lstrip()
    return head[:1] == b"[" and head[1:].lstrip()[:1] == b"]"


def _objects(file: IO[bytes]) -> Iterator[Row]:
    """The objects of the JSON array in ``file``, one ``raw_decode`` each."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    buffer, position, exhausted = "", 0, False

    def more() -> bool:
        nonlocal buffer, position, exhausted
        if exhausted:
            return False
        chunk = file.read(READ_CHUNK_BYTES)
        exhausted = not chunk
        buffer = buffer[position:] + utf8.decode(chunk, final=exhausted)
        position = 0
        return True

    more()
    position = buffer.index("[") + 1
    while True:
        # Between elements: blanks and one comma.
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n,":
                position += 1
            if position < len(buffer) or not more():
                break
        if position >= len(buffer):
            raise MalformedAnswer("the JSON array ends without its closing bracket")
        if buffer[position] == "]":
            return
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
                break
            except json.JSONDecodeError as error:
                # An ENA row is a few KB: past that, more text will not make it whole.
                if len(buffer) - position > MAX_ROW_CHARS or not more():
                    raise MalformedAnswer(f"invalid JSON in the answer: {error}") from error
        if not isinstance(value, dict):
            raise MalformedAnswer(f"expected JSON objects in the array, got {type(value).__name__}")
        position = end
        yield value
