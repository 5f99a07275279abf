"""Resources of the code location, built from the platform's configuration."""

from __future__ import annotations

from emg_assets.ena.client import ENAClient
from emg_django.config import EMGConfig


def ena_client(config: EMGConfig) -> ENAClient:
    """The ENA Portal client, with the data-hub account when one is configured."""
    return ENAClient.from_config(config.ena, config.webin)
