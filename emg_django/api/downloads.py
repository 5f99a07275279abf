"""Download files of studies and analyses: their URLs, and the route that serves private ones.

Public results are served by the results host (``results.public_url``, mapped onto
``public_dir``), so their URLs point there. Private results (in ``private_dir``) may reach only
their Webin owner and admins: their URLs point to the API's ``…/downloads/<alias>`` route, which
applies the visibility of every other endpoint, then hands the file to the front web server
(``X-Accel-Redirect``, when ``results.private_accel_redirect`` is set: no API worker is held
for the length of a large download) or streams it itself.
"""

from __future__ import annotations

import logging
import mimetypes
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import content_disposition_header

from emg_django.api.accessions import shown
from emg_django.api.errors import not_found
from emg_django.config import get_config

logger = logging.getLogger(__name__)

Row = dict[str, Any]

#: The columns of a study or analysis row that its downloads need.
DOWNLOAD_COLUMNS = ("downloads", "results_dir", "is_private")
#: nginx's header for "serve this internal location instead".
ACCEL_REDIRECT = "X-Accel-Redirect"
#: Private files must not be kept by shared caches (proxies) on the way.
PRIVATE_CACHE_CONTROL = "private, no-store"
ALIAS = "alias"
PATH = "path"
#: The OpenAPI description of a download route's answers besides its errors.
DOWNLOAD_RESPONSES = {
    "responses": {
        200: {
            "description": "The file (a private object's, to its owner or an admin).",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        302: {"description": "A public file: redirect to its URL on the results host."},
    }
}


def public_url(results_dir: str, path: str) -> str:
    """The URL of a public file: ``<public_url>/<results_dir>/<path>``."""
    base = get_config().results.public_url.rstrip("/")
    return "/".join([base, *(part for part in (results_dir.strip("/"), path.lstrip("/")) if part)])


def download_items(request: HttpRequest, row: Row, route: str, accession: str) -> list[Row]:
    """The download entries of a study or analysis ``row`` (:data:`DOWNLOAD_COLUMNS`) with their
    URL, without their internal path.

    :param route: URL name (in the ``api`` namespace) of the route serving the object's files,
        for a private object.
    """
    url_of: Callable[[Row], str]
    if row["is_private"]:

        def url_of(entry: Row) -> str:
            kwargs = {"accession": accession, ALIAS: entry[ALIAS]}
            return request.build_absolute_uri(reverse(f"api:{route}", kwargs=kwargs))

    else:

        def url_of(entry: Row) -> str:
            return public_url(row["results_dir"], entry[PATH])

    return [
        {**{key: value for key, value in entry.items() if key != PATH}, "url": url_of(entry)}
        for entry in row["downloads"] or []
    ]


def _private_path(results_dir: str, path: str, what: str) -> str:
    """The file's path relative to ``private_dir``; never outside the object's results dir.

    :raises HttpError: 404 when the object is not published (its results dir is still the
        absolute work dir of its pipeline run) or the path leaves its results dir.
    """
    directory = posixpath.normpath(results_dir.strip())
    relative = posixpath.normpath(posixpath.join(directory, path.lstrip("/")))
    escapes = relative == ".." or relative.startswith("../")
    if not results_dir.strip() or posixpath.isabs(directory) or escapes:
        raise not_found(f"{what}: its results are not published")
    if directory != "." and not relative.startswith(directory + "/"):
        raise not_found(f"{what}: its results are not published")
    return relative


def download_response(row: Row, alias: str, what: str) -> HttpResponse | FileResponse:
    """The answer to a download of ``alias`` of the visible object ``row``
    (:data:`DOWNLOAD_COLUMNS`): a redirect to a public file, or the private file itself.

    :param what: the object, for messages (``analysis MGYA00000001``).
    :raises HttpError: 404 for an unknown alias or a file that is not there.
    """
    entry = next((item for item in row["downloads"] or [] if item[ALIAS] == alias), None)
    if entry is None:
        raise not_found(f"{what} has no download {shown(alias)}")
    if not row["is_private"]:
        return HttpResponseRedirect(public_url(row["results_dir"], entry[PATH]))
    relative = _private_path(row["results_dir"], entry[PATH], what)
    results = get_config().results
    response: HttpResponse | FileResponse
    if results.private_accel_redirect:
        content_type, _ = mimetypes.guess_type(alias)
        response = HttpResponse(content_type=content_type or "application/octet-stream")
        response[ACCEL_REDIRECT] = results.private_accel_redirect + quote(relative)
        response["Content-Disposition"] = content_disposition_header(True, alias) or "attachment"
    else:
        file = _open(results.private_dir / relative, what)
        response = FileResponse(file, as_attachment=True, filename=alias)
    response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    return response


def _open(path: Path, what: str) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        # Listed but not on disk: publishing went wrong (logged); the client gets a clear 404.
        logger.warning("download of %s: cannot open %s: %s", what, path, exc)
        raise not_found(f"{what}: the file is not available") from exc
