"""Sensor tests reuse the code-location fixtures (fake ENA, client, instance)."""

from tests.emg_assets.conftest import ena, fake_ena, instance, partitions  # noqa: F401
