"""Paths of published results, relative to the public or private results root.

``results_dir`` of a study or analysis is such a path once published (``PRJEB41/PRJEB41657`` or
``…/V6/amplicon/ERR1``); before, an analysis's is the absolute work dir of its pipeline run. Both
the API (which serves files under it) and the movers (which delete behind them) must never act
on a value that would reach outside its object's own dir, such as ``""``, ``"."`` or ``"../x"``.
"""

from __future__ import annotations

import posixpath


def published_dir(results_dir: str) -> str | None:
    """``results_dir`` normalised when it is a published dir (relative, at least one part, no
    ``..`` anywhere), else ``None`` (not published yet, or not a value to trust)."""
    value = results_dir.strip()
    if not value or posixpath.isabs(value) or ".." in value.split("/"):
        return None
    normalised = posixpath.normpath(value)
    return None if normalised == "." else normalised


def file_under(directory: str, path: str) -> str | None:
    """``directory/path`` normalised, or ``None`` when ``path`` leaves ``directory`` (a
    :func:`published_dir`)."""
    joined = posixpath.normpath(posixpath.join(directory, path.lstrip("/")))
    return joined if joined.startswith(directory + "/") else None
