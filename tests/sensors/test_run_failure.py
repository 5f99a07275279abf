"""Run-failure notifications reach a (local) Slack webhook with study, asset and a link."""

from __future__ import annotations

import dagster as dg
import pytest

from emg_assets.notifications import NotificationError, SlackWebhook
from sensors.run_failure import build_run_failure_sensor
from tests.fakes.http_receiver import HTTPReceiver

STUDY = "PRJEB41657"
partitions_def = dg.DynamicPartitionsDefinition(name="ena_studies")


@dg.asset(partitions_def=partitions_def)
def doomed_asset() -> None:
    raise RuntimeError("Nextflow exited 1: OUT_OF_MEMORY in task FASTP")


def _failed_run(instance: dg.DagsterInstance) -> tuple[dg.DagsterRun, dg.DagsterEvent]:
    instance.add_dynamic_partitions("ena_studies", [STUDY])
    result = dg.materialize(
        [doomed_asset], partition_key=STUDY, instance=instance, raise_on_error=False
    )
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    [record] = instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
    ).records
    return run, record.event_log_entry.dagster_event


def _evaluate(sensor, instance, run, event, slack: SlackWebhook) -> None:
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=event,
        resources={"slack": slack},
    ).for_run_failure()
    sensor(context)


def test_a_failed_run_is_posted_to_slack(instance) -> None:
    run, event = _failed_run(instance)
    sensor = build_run_failure_sensor(enabled=True, ui_url="https://dagster.example.org/")
    with HTTPReceiver() as slack:
        _evaluate(sensor, instance, run, event, SlackWebhook(webhook_url=f"{slack.url}/hooks/T000"))
    [(path, payload)] = slack.posts
    assert path == "/hooks/T000"
    text = payload["text"]
    assert STUDY in text and "doomed_asset" in text
    assert f"https://dagster.example.org/runs/{run.run_id}" in text
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_no_webhook_means_no_post_and_a_stopped_sensor(instance) -> None:
    run, event = _failed_run(instance)
    sensor = build_run_failure_sensor(enabled=False, ui_url="http://127.0.0.1:3000")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    with HTTPReceiver() as slack:
        _evaluate(sensor, instance, run, event, SlackWebhook(webhook_url=None))
        assert slack.posts == []


def test_slack_refusing_the_message_is_an_error() -> None:
    with HTTPReceiver(status=400) as slack, pytest.raises(NotificationError, match="400"):
        SlackWebhook(webhook_url=slack.url).post("hello")
