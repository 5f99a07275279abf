"""Bench-only URLconf: the platform's URLs plus ``bench-naive/`` (see :mod:`naive`)."""

from django.urls import path
from naive import naive_api

from emg_django.urls import urlpatterns as platform_urlpatterns

urlpatterns = [path("bench-naive/", naive_api.urls), *platform_urlpatterns]
