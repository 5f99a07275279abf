"""Download files of studies and analyses: their URLs, and the route that serves private ones.

Public results are served by the results host (``results.public_url``, mapped onto
``public_dir``), so their URLs point there. Private results (in ``private_dir``) may reach only
their Webin owner and admins: their URLs point to the API's ``…/downloads/<alias>`` route, which
applies the visibility of every other endpoint, then hands the file to the front web server
(``X-Accel-Redirect``, when ``results.private_accel_redirect`` is set: no API worker is held
for the length of a large download) or streams it itself.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from django.db.models import Model
from django.http import FileResponse, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse

from emg_django.api.accessions import parse_mgnify, shown
from emg_django.api.errors import not_found
from emg_django.api.queries import first_row, visible
from emg_django.config import get_config
from emg_django.core.accessions import MGnifyPrefix, format_accession
from emg_django.core.paths import file_under, published_dir

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


def public_url(relative: str) -> str:
    """The URL of the public file ``relative`` (to the results root) on the results host."""
    return f"{get_config().results.public_url.rstrip('/')}/{quote(relative)}"


def _file_of(row: Row, entry: Row) -> str | None:
    """The file of a download entry, relative to the results root; ``None`` while the object's
    results are not published (or when its path would leave the object's results dir)."""
    directory = published_dir(row["results_dir"])
    return None if directory is None else file_under(directory, entry[PATH])


def _one_segment(alias: str) -> bool:
    """Whether ``alias`` is one URL path segment, so the download route can serve it."""
    return "/" not in alias and alias not in (".", "..")


def download_items(request: HttpRequest, row: Row, route: str, accession: str) -> list[Row]:
    """The download entries of a study or analysis ``row`` (:data:`DOWNLOAD_COLUMNS`) with their
    URL, without their internal path. Files not published yet are not listed: they have no URL.

    :param route: URL name (in the ``api`` namespace) of the route serving the object's files,
        for a private object.
    """
    items = []
    for entry in row["downloads"] or []:
        relative = _file_of(row, entry)
        if relative is None or not _one_segment(entry[ALIAS]):
            continue  # not published, or an alias (stored around its schema) with no route
        if row["is_private"]:
            kwargs = {"accession": accession, ALIAS: entry[ALIAS]}
            url = request.build_absolute_uri(reverse(f"api:{route}", kwargs=kwargs))
        else:
            url = public_url(relative)
        items.append({**{key: value for key, value in entry.items() if key != PATH}, "url": url})
    return items


def download_response(row: Row, alias: str, what: str) -> HttpResponseBase:
    """The answer to a download of ``alias`` of the visible object ``row``
    (:data:`DOWNLOAD_COLUMNS`): a redirect to a public file, or the private file itself.

    :param what: the object, for messages (``analysis MGYA00000001``).
    :raises HttpError: 404 for an unknown alias, unpublished results or a missing file.
    """
    entry = next((item for item in row["downloads"] or [] if item[ALIAS] == alias), None)
    if entry is None:
        raise not_found(f"{what} has no download {shown(alias)}")
    relative = _file_of(row, entry)
    if relative is None:
        raise not_found(f"{what}: its results are not published")
    if not row["is_private"]:
        return HttpResponseRedirect(public_url(relative))
    results = get_config().results
    if results.private_accel_redirect:
        # Headers as for the file itself (type, encoding, name); nginx sends the body.
        response = FileResponse(io.BytesIO(), as_attachment=True, filename=alias)
        response[ACCEL_REDIRECT] = results.private_accel_redirect + quote(relative)
        del response["Content-Length"]
    else:
        file = _open(results.private_dir / relative, what)
        response = FileResponse(file, as_attachment=True, filename=alias)
    response["Cache-Control"] = PRIVATE_CACHE_CONTROL
    return response


def serve_download(
    request: HttpRequest, model: type[Model], prefix: MGnifyPrefix, accession: str, alias: str
) -> HttpResponseBase:
    """The download route of studies and analyses: ``alias`` of the visible object
    ``accession`` (a 400 for a malformed accession, a 404 for a hidden or unknown one)."""
    pk = parse_mgnify(prefix, accession)
    what = f"{model._meta.verbose_name} {format_accession(prefix, pk)}"
    row = first_row(visible(model, request).filter(pk=pk), DOWNLOAD_COLUMNS, what)
    return download_response(row, alias, what)


def _open(path: Path, what: str) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        # Listed but not on disk: publishing went wrong (logged); the client gets a clear 404.
        logger.warning("download of %s: cannot open %s: %s", what, path, exc)
        raise not_found(f"{what}: the file is not available") from exc
