"""The v2 API (django-ninja)."""

from ninja import NinjaAPI

api = NinjaAPI(title="MGnify API", version="2.0.0", urls_namespace="api")
