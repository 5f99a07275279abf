"""Errors of the v2 API: every error body is ``{"detail": "<message>"}``.

The handlers here replace django-ninja's defaults so that invalid parameters give a readable
message naming the parameter (with the raw error list beside it), and unexpected database
errors caused by odd input never surface as a 500.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import Field

from emg_django.api.schemas.base import OutputSchema

logger = logging.getLogger(__name__)

#: Status of a request whose parameters fail validation (django-ninja's and FastAPI's choice).
VALIDATION_STATUS = 422


class ErrorSchema(OutputSchema):
    """The body of every error response."""

    detail: str = Field(..., examples=["No study MGYS00000001"])


class ValidationErrorSchema(ErrorSchema):
    """The body of a validation error: a readable ``detail`` plus the raw errors."""

    errors: list[dict[str, Any]] = Field(default_factory=list)


def not_found(message: str) -> HttpError:
    """A 404 with ``message`` (raise it)."""
    return HttpError(404, message)


def bad_request(message: str) -> HttpError:
    """A 400 with ``message`` (raise it)."""
    return HttpError(400, message)


def _location(loc: Any) -> str:
    """``["query", "page_size"]`` → ``page_size``; the source (query, path, body) is dropped."""
    parts = [str(part) for part in (loc or ()) if part not in ("query", "path", "body", "filters")]
    return ".".join(parts) or "request"


def describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    """One readable line for a list of pydantic errors, each naming its parameter."""
    messages = []
    for error in errors:
        message = str(error.get("msg", "invalid value"))
        if error.get("type") == "enum" and "expected" in error.get("ctx", {}):
            message = f"unknown value; expected one of {error['ctx']['expected']}"
        messages.append(f"{_location(error.get('loc'))}: {message}")
    return "; ".join(messages) or "invalid request"


def _clean(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The errors without non-JSON values (pydantic puts exceptions in ``ctx``)."""
    return [{key: error[key] for key in ("type", "loc", "msg") if key in error} for error in errors]


def _validation_error(request: HttpRequest, exc: ValidationError, api: NinjaAPI) -> HttpResponse:
    body = {"detail": describe_validation_errors(exc.errors), "errors": _clean(exc.errors)}
    return api.create_response(request, body, status=VALIDATION_STATUS)


def _http_error(request: HttpRequest, exc: HttpError, api: NinjaAPI) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _authentication_error(
    request: HttpRequest, exc: AuthenticationError, api: NinjaAPI
) -> HttpResponse:
    message = str(exc)
    if message == "Unauthorized":
        message = "authentication required: send a bearer token from POST auth/login"
    return api.create_response(request, {"detail": message}, status=exc.status_code)


def _not_found(request: HttpRequest, exc: Exception, api: NinjaAPI) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "not found"}, status=404)


def _data_error(request: HttpRequest, exc: DataError, api: NinjaAPI) -> HttpResponse:
    # Input the database cannot represent (e.g. out-of-range numbers) is the caller's problem.
    logger.info("data error on %s: %s", request.path, exc)
    return api.create_response(request, {"detail": "invalid value in request"}, status=400)


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace django-ninja's error handlers on ``api`` with the ``{"detail": …}`` ones."""
    handlers: dict[type[Exception], Any] = {
        ValidationError: _validation_error,
        AuthenticationError: _authentication_error,
        HttpError: _http_error,
        Http404: _not_found,
        ObjectDoesNotExist: _not_found,
        DataError: _data_error,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, partial(handler, api=api))
