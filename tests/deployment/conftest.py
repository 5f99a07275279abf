"""Deployment tests reuse the code-location fixtures (fake ENA, client)."""

from tests.emg_assets.conftest import ena, fake_ena  # noqa: F401
