"""``new_ena_studies``: notices metagenomic studies ENA made public (or updated) since the cursor.

One tick asks ENA once for the studies whose reads were made public or updated on or after the
cursor's date, adds a partition for each study it does not have, and requests its ingest run, in a
single :class:`dagster.SensorResult`. The cursor (JSON) holds the last date seen and the accessions
already handled on that date, so a day is re-read without re-requesting anything. A tick requests
at most ``max_run_requests_per_tick`` runs (each costs the daemon ~240 ms) and carries the rest.
"""

# No `from __future__ import annotations` here: Dagster reads config and resource types
# from the function annotations at definition time.

import datetime as dt
from collections.abc import Sequence

import dagster as dg
from pydantic import BaseModel, Field

from emg_assets.ena.client import ENAClient
from emg_assets.ena.records import ENAStudyRecord
from emg_assets.jobs import ena_ingest_job
from emg_assets.partitions import STUDY_PARTITIONS_NAME, ena_studies
from emg_django.config import SensorsConfig, get_config

RUN_KEY_PREFIX = "new-ena-study"
#: Run tag naming what asked for the run.
TRIGGER_TAG = "emg/trigger"


class StudyCursor(BaseModel):
    """Where the sensor is: the last date seen, and the studies already handled on it."""

    last_date: dt.date
    handled: list[str] = Field(default_factory=list)

    @classmethod
    def load(cls, raw: str | None, start: dt.date) -> "StudyCursor":
        return cls.model_validate_json(raw) if raw else cls(last_date=start)

    def dump(self) -> str:
        return self.model_dump_json()


def event_date(record: ENAStudyRecord) -> dt.date | None:
    """When the study was last made public or updated."""
    dates = [d for d in (record.first_public, record.last_updated) if d is not None]
    return max(dates) if dates else None


def plan_tick(
    records: Sequence[ENAStudyRecord], cursor: StudyCursor, existing: set[str], limit: int
) -> tuple[list[str], StudyCursor]:
    """The new partition keys of this tick, and the cursor after it.

    Studies are taken in (date, accession) order; those already partitions (by any accession) are
    passed over but still move the cursor.
    """
    ordered = sorted(
        (
            (date, r)
            for r in records
            if (date := event_date(r)) is not None and date >= cursor.last_date
        ),
        key=lambda item: (item[0], item[1].study_accession),
    )
    handled = set(cursor.handled)
    last_date, new_keys = cursor.last_date, list[str]()
    for date, record in ordered:
        if date == cursor.last_date and record.study_accession in handled:
            continue
        if len(new_keys) >= limit:
            break
        if date != last_date:
            last_date, handled = date, set()
        handled.add(record.study_accession)
        if not existing.isdisjoint(record.accessions):
            continue
        existing.update(record.accessions)
        new_keys.append(record.study_accession)
    return new_keys, StudyCursor(last_date=last_date, handled=sorted(handled))


def build_new_ena_studies_sensor(settings: SensorsConfig) -> dg.SensorDefinition:
    """The sensor, with its filters, interval and default status from ``settings``."""

    @dg.sensor(
        name="new_ena_studies",
        job=ena_ingest_job,
        minimum_interval_seconds=settings.new_studies_interval_seconds,
        default_status=(
            dg.DefaultSensorStatus.RUNNING
            if settings.new_studies_running
            else dg.DefaultSensorStatus.STOPPED
        ),
        description="Adds a partition and an ingest run for each metagenomic study "
        "ENA made public or updated.",
    )
    def new_ena_studies(context: dg.SensorEvaluationContext, ena: ENAClient) -> dg.SensorResult:
        cursor = StudyCursor.load(context.cursor, settings.new_studies_start_date)
        parsed = ena.find_studies(
            first_public_from=cursor.last_date,
            library_strategies=settings.new_studies_library_strategies,
        )
        for problem in parsed.problems[:20]:
            context.log.warning(f"ENA study record: {problem}")
        existing = set(context.instance.get_dynamic_partitions(STUDY_PARTITIONS_NAME))
        keys, next_cursor = plan_tick(
            parsed.records, cursor, existing, settings.max_run_requests_per_tick
        )
        context.log.info(
            f"{len(parsed.records)} studies from ENA since {cursor.last_date}: {len(keys)} new; "
            f"cursor now {next_cursor.last_date}"
        )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=key,
                    run_key=f"{RUN_KEY_PREFIX}:{key}",
                    tags={TRIGGER_TAG: "new_ena_studies"},
                )
                for key in keys
            ],
            dynamic_partitions_requests=[ena_studies.build_add_request(keys)] if keys else [],
            cursor=next_cursor.dump(),
        )

    return new_ena_studies


new_ena_studies = build_new_ena_studies_sensor(get_config().sensors)
