"""``manage.py load_demo_data``: a small, realistic data set for a newcomer's first look."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from emg_django.analyses.demo import load_demo_data
from emg_django.analyses.models import Study


class Command(BaseCommand):
    help = "Load the demo data set (studies, samples, runs, assemblies, analyses, a private study)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any study exists."
        )

    def handle(self, *args: Any, if_empty: bool, **options: Any) -> None:
        if if_empty and Study.objects.exists():
            self.stdout.write("studies exist: demo data not loaded")
            return
        counts = load_demo_data()
        self.stdout.write(
            "loaded demo data: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())
        )
