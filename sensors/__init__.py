"""Dagster sensors: new ENA studies, ENA sync (and, later, curated studies and run failures)."""
