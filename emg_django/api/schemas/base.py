"""The base of the API's response schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class OutputSchema(BaseModel):
    """A response body: a plain pydantic model, not ``ninja.Schema``.

    The views build dicts; pydantic-core validates them in one pass. ``ninja.Schema`` wraps every
    object, nested ones included, in a Python ``DjangoGetter`` first (for ORM objects and
    ``resolve_*`` methods, which the API does not use): ~40 % of a list response's time (see
    bench/RESULTS.md). Request schemas (query parameters, bodies) stay ``ninja.Schema``.
    """

    model_config = ConfigDict(from_attributes=True)
