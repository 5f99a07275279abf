"""``notify_run_failure``: tells Slack which study and asset failed, with a link to the run."""

# No `from __future__ import annotations`: Dagster reads resource types from the annotations.

import dagster as dg

from emg_assets.notifications import SlackWebhook
from emg_django.config import get_config

PARTITION_TAG = "dagster/partition"
MAX_ERROR_CHARS = 1_500


def failure_message(context: dg.RunFailureSensorContext, ui_url: str) -> str:
    """The Slack text of a failed run: study, assets, error and a link."""
    run = context.dagster_run
    study = run.tags.get(PARTITION_TAG, "—")
    assets = (
        ", ".join(sorted(key.to_user_string() for key in (run.asset_selection or [])))
        or run.job_name
    )
    error = context.failure_event.message or "no message"
    return (
        f":red_circle: *{run.job_name}* failed for study *{study}*\n"
        f"assets: {assets}\n"
        f"```{error[:MAX_ERROR_CHARS]}```\n"
        f"<{ui_url.rstrip('/')}/runs/{run.run_id}|open the run in Dagster>"
    )


def build_run_failure_sensor(enabled: bool, ui_url: str) -> dg.SensorDefinition:
    """The sensor, running by default only where a webhook is configured."""

    @dg.run_failure_sensor(
        name="notify_run_failure",
        default_status=dg.DefaultSensorStatus.RUNNING
        if enabled
        else dg.DefaultSensorStatus.STOPPED,
        description="Posts failed runs (study, assets, error, link) to Slack.",
    )
    def notify_run_failure(context: dg.RunFailureSensorContext, slack: SlackWebhook) -> None:
        if not slack.enabled:
            context.log.info("no Slack webhook configured: failure not posted")
            return
        slack.post(failure_message(context, ui_url))

    return notify_run_failure


_config = get_config()
notify_run_failure = build_run_failure_sensor(
    enabled=_config.notifications.slack_webhook_url is not None,
    ui_url=_config.dagster.public_url or _config.dagster.webserver_url,
)
