"""Django inside the Dagster code location: the assets write through the ORM."""

from __future__ import annotations

import os

import django
from django.apps import apps


def setup_django() -> None:
    """Configure Django once per process (idempotent)."""
    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emg_django.settings")
    django.setup()
