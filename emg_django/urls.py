"""URL routes: the v2 API (mount point configurable) and the curators' admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, path, re_path
from django.views.static import serve

from emg_django.api.app import api
from emg_django.config import get_config

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path(get_config().api.prefix, api.urls),
]

if settings.DEBUG:
    # Development only: the public results, where download URLs point under `make run`.
    # Production serves them from the results host (EMG_RESULTS__PUBLIC_URL).
    urlpatterns.append(
        re_path(
            r"^results/(?P<path>.*)$", serve, {"document_root": get_config().results.public_dir}
        )
    )
