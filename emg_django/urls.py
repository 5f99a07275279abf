"""URL routes: the v2 API (mount point configurable) and the curators' admin."""

from django.contrib import admin
from django.urls import path

from emg_django.api.app import api
from emg_django.config import get_config

urlpatterns = [
    path("admin/", admin.site.urls),
    path(get_config().api.prefix, api.urls),
]
