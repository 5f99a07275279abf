"""Resources of the code location, built from the platform's configuration."""

from __future__ import annotations

from emg_assets.analyses.settings import AnalysisPipelines
from emg_assets.ena.client import ENAClient
from emg_assets.notifications import SlackWebhook
from emg_django.config import EMGConfig
from slurm_resource import SlurmResource


def ena_client(config: EMGConfig) -> ENAClient:
    """The ENA Portal client, with the data-hub account when one is configured."""
    return ENAClient.from_config(config.ena, config.webin)


def slack_webhook(config: EMGConfig) -> SlackWebhook:
    """Slack notifications; disabled when no webhook URL is configured."""
    url = config.notifications.slack_webhook_url
    return SlackWebhook(
        webhook_url=url.get_secret_value() if url else None,
        timeout_seconds=config.notifications.timeout_seconds,
    )


def slurm_cluster(config: EMGConfig) -> SlurmResource:
    """The Slurm resource of ``EMGConfig.slurm`` (embedded, no Slurm, by default)."""
    return SlurmResource.from_config(config.slurm)


def analysis_pipelines(config: EMGConfig) -> AnalysisPipelines:
    """The analysis pipelines' settings (``EMGConfig.pipelines``) and results dirs."""
    return AnalysisPipelines.from_config(config)
