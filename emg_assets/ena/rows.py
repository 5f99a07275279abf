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
from collections.abc import Iterable, Iterator
from typing import IO

import httpx

from emg_assets.ena.errors import ENAResponseError

#: Answers up to this size stay in memory; larger ones go to a temporary file.
SPOOL_IN_MEMORY_BYTES = 4 * 1024 * 1024
#: Bytes read from the spool at a time.
READ_CHUNK_BYTES = 1024 * 1024
#: JSON's blanks.
BLANKS = " \t\r\n"
#: Longest row (as JSON text) the reader accepts.
MAX_ROW_CHARS = 4 * READ_CHUNK_BYTES

Row = dict[str, str]


class InvalidAnswer(ValueError):
    """The answer is not valid JSON (typically cut off in transit): worth a retry."""


class MalformedAnswer(ValueError):
    """The answer is valid JSON but not an array of objects: a retry would not help."""


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


class SpooledRows(Iterable[Row]):
    """The rows of a spooled JSON array answer, read lazily, once.

    The whole answer is checked (decoded and counted, not kept) when this is made, so that a
    cut-off or corrupted answer is retried by the client before any row is used.

    :param file: the spooled body (closed when the rows have been read, or on :meth:`close`).
    :param url: the request's URL, for errors.
    :raises InvalidAnswer: the body is not valid JSON.
    :raises MalformedAnswer: the body is not a JSON array of objects.
    """

    def __init__(self, file: IO[bytes], url: str = "") -> None:
        self._file = file
        self.url = url
        try:
            self.count = sum(1 for _ in _objects(file))
        except BaseException:
            file.close()
            raise
        self._used = False

    @property
    def empty(self) -> bool:
        return self.count == 0

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpooledRows:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Row]:
        if self._used:
            raise RuntimeError("the rows of an ENA answer can be read once")
        self._used = True
        try:
            yield from _objects(self._file)
        except (InvalidAnswer, MalformedAnswer) as error:  # the file changed under us
            raise ENAResponseError(f"{error}: {self.url}", self.url) from error
        finally:
            self.close()


def _objects(file: IO[bytes]) -> Iterator[Row]:
    """The objects of the JSON array in ``file`` (from its start), one ``raw_decode`` each.
    An empty or blank file is an empty array (ENA's 204)."""
    file.seek(0)
    decoder = json.JSONDecoder()
    text = codecs.getincrementaldecoder("utf-8-sig")()  # a BOM is allowed, as json.loads does
    buffer, position, exhausted = "", 0, False

    def more() -> bool:
        nonlocal buffer, position, exhausted
        if exhausted:
            return False
        chunk = file.read(READ_CHUNK_BYTES)
        exhausted = not chunk
        try:
            buffer = buffer[position:] + text.decode(chunk, final=exhausted)
        except UnicodeDecodeError as error:
            raise InvalidAnswer(f"invalid JSON from ENA (not UTF-8): {error}") from error
        position = 0
        return True

    def skip(blanks: str) -> str:
        """The next character after ``blanks`` ("" at the end of the file)."""
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in blanks:
                position += 1
            if position < len(buffer):
                return buffer[position]
            if not more():
                return ""

    first = skip(BLANKS)
    if first == "":
        return
    if first != "[":
        raise MalformedAnswer(f"expected a JSON array of objects, got {buffer[position:][:40]!r}")
    position += 1
    while True:
        # Between elements: blanks and one comma (the decoder checks the values themselves).
        after = skip(BLANKS + ",")
        if after == "":
            raise InvalidAnswer(
                f"invalid JSON from ENA: the array is cut off after {file.tell()} bytes"
            )
        if after == "]":
            position += 1
            if skip(BLANKS) != "":
                raise InvalidAnswer("invalid JSON from ENA: data after the array")
            return
        while True:
            try:
                value, end = decoder.raw_decode(buffer, position)
                break
            except json.JSONDecodeError as error:
                # An ENA row is a few KB: past that, more text will not make it whole.
                if len(buffer) - position > MAX_ROW_CHARS or not more():
                    raise InvalidAnswer(f"invalid JSON from ENA: {error}") from error
        if not isinstance(value, dict):
            raise MalformedAnswer(f"expected JSON objects in the array, got {type(value).__name__}")
        position = end
        yield value
