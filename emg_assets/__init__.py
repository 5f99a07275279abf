"""The Dagster code location of the platform: ``emg_assets.definitions:defs``."""
