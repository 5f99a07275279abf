"""The v2 API (django-ninja), compatible with MGnify's public API v2.

Mounted at ``api.prefix`` (``/api/v2/``): Swagger UI at ``docs``, the schema at ``openapi.json``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Router
from ninja.openapi.schema import OpenAPISchema

from emg_django.api import (
    admin_actions,
    analyses,
    assemblies,
    auth,
    biomes,
    my_data,
    runs,
    samples,
    studies,
)
from emg_django.api.errors import ErrorSchema, install_error_handlers, not_found
from emg_django.api.renderers import JSONRenderer
from emg_django.api.security import OptionalWebinAuth, check_configuration

DESCRIPTION = (
    "MGnify's metagenomics analyses: studies, samples, runs, assemblies, analyses and biomes. "
    "Lists are `{count, items}` pages (`page`, `page_size`); errors are `{detail}`. Private data "
    "is visible to its Webin owner: log in with `POST auth/login` and send the token as a bearer."
)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

check_configuration()


def document_authentication(schema: OpenAPISchema, media_type: str) -> None:
    """Say in ``schema`` what the authenticators do: a token is optional on public endpoints
    (``{}``, anonymous, is an alternative to the bearer) and any authenticated endpoint may
    answer 401 (a bad or expired token), with the usual ``{detail}`` body."""
    optional: dict[str, list[str]] = {OptionalWebinAuth.__name__: []}
    error = {"$ref": f"#/components/schemas/{ErrorSchema.__name__}"}
    for operations in schema["paths"].values():
        for operation in operations.values():
            security = operation.get("security")
            if not security:
                continue
            if optional in security and {} not in security:
                security.append({})
            operation["responses"].setdefault(
                401, {"description": "Unauthorized", "content": {media_type: {"schema": error}}}
            )


class MGnifyAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        schema = super().get_openapi_schema(**kwargs)
        document_authentication(schema, self.renderer.media_type or "application/json")
        return schema


api = MGnifyAPI(
    title="MGnify API",
    version="2.0.0",
    description=DESCRIPTION,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=OptionalWebinAuth(),
    renderer=JSONRenderer(),
)
install_error_handlers(api)

api.add_router("/studies/", studies.router)
api.add_router("/samples/", samples.router)
api.add_router("/runs/", runs.router)
api.add_router("/assemblies/", assemblies.router)
api.add_router("/analyses/", analyses.router)
api.add_router("/biomes/", biomes.router)
api.add_router("/my-data/", my_data.router)
api.add_router("/auth/", auth.router)
api.add_router("/admin/", admin_actions.router)

#: Last, so it only answers paths no endpoint matched: a JSON 404 instead of Django's HTML page.
fallback = Router(auth=None)


@fallback.api_operation(
    ALL_METHODS, "/{path:unknown}", response={404: ErrorSchema}, include_in_schema=False
)
def unknown_path(request: HttpRequest, unknown: str) -> None:
    hint = "" if unknown.endswith("/") else f" (list endpoints end with '/': try {unknown}/)"
    raise not_found(f"no endpoint at {unknown[:80]}{hint}")


api.add_router("", fallback)
