"""The code location's definitions (loaded by workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from emg_assets.orm import setup_django

setup_django()

defs = dg.Definitions()
