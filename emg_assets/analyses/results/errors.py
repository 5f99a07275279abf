"""Errors of result reading: each becomes a failed analysis with its message as the reason."""

from __future__ import annotations

from pathlib import Path


class ResultError(ValueError):
    """A pipeline output is missing or malformed.

    :param path: the file at fault (shown relative to the run's result dir when possible).
    """

    def __init__(self, message: str, path: Path | str | None = None):
        self.path = Path(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)
