"""Bench-only Django settings: the platform's settings with :mod:`bench_urls` as URLconf, which
adds the naive comparison endpoint. Used only by ``bench/api_scale/run.py`` (gunicorn is started
with ``--pythonpath bench/api_scale``); the platform's own URLs never include it."""

from emg_django.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
