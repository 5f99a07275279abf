"""``ena_sync``: re-checks known studies against ENA and re-ingests those that changed.

Each tick takes the next ``sync_studies_per_tick`` known studies (in accession order, the cursor
being the last accession checked, wrapping around), asks ENA for them in batches — publicly, then
with the data-hub account for the ones not found — and compares privacy, suppression, title and
ENA's ``last_updated`` with what the database holds. A changed study gets an ingest run whose
run key names the new state, so the same change is never ingested twice.
"""

# No `from __future__ import annotations` here: Dagster reads config and resource types
# from the function annotations at definition time.

import hashlib
from collections.abc import Sequence

import dagster as dg

from emg_assets.ena import fields as f
from emg_assets.ena.client import ENAClient
from emg_assets.ena.query import ENAQuery
from emg_assets.ena.records import ENAStudyRecord, parse_records
from emg_assets.ena.vocabulary import DataPortal, ENAResult
from emg_assets.jobs import ena_ingest_job
from emg_assets.orm import setup_django
from emg_assets.partitions import STUDY_PARTITIONS_NAME, ena_studies
from emg_django.config import SensorsConfig, get_config

RUN_KEY_PREFIX = "ena-sync"
#: Studies per ENA request (an OR of accessions; keeps the URL short).
BATCH = 50
TRIGGER_TAG = "emg/trigger"


def fetch_studies(ena: ENAClient, accessions: Sequence[str]) -> dict[str, ENAStudyRecord]:
    """ENA's records of these studies by primary accession; private ones flagged ``is_private``."""
    found: dict[str, ENAStudyRecord] = {}
    for start in range(0, len(accessions), BATCH):
        batch = list(accessions[start : start + BATCH])
        for authenticated in (False, True):
            wanted = [acc for acc in batch if acc not in found]
            if not wanted or (authenticated and not ena.has_datahub_credentials):
                break
            rows = ena.search(
                ENAResult.STUDY,
                ENAQuery.any_of(f.STUDY_ACCESSION, wanted),
                f.STUDY_FIELDS,
                data_portal=DataPortal.ENA,
                include_metagenomes=True,
                authenticated=authenticated,
            )
            for record in parse_records(ENAStudyRecord, rows).records:
                record.is_private = authenticated
                found[record.study_accession] = record
    return found


def state_of(is_private: bool, is_suppressed: bool, title: str, last_updated: str) -> str:
    """A short fingerprint of what the sync compares."""
    text = "\x1f".join((str(is_private), str(is_suppressed), title, last_updated))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed_studies(ena: ENAClient, known: Sequence[dict[str, object]]) -> dict[str, str]:
    """``{accession: new state}`` of the known studies whose ENA state differs from ours.

    :param known: rows with ``accession``, ``is_private``, ``is_suppressed``, ``title`` and
        ``metadata`` (ENA's last record) of :class:`emg_django.ena.models.Study`.
    """
    records = fetch_studies(ena, [str(row["accession"]) for row in known])
    changes = {}
    for row in known:
        accession = str(row["accession"])
        metadata = row["metadata"] if isinstance(row["metadata"], dict) else {}
        ours = state_of(
            bool(row["is_private"]),
            bool(row["is_suppressed"]),
            str(row["title"]),
            str(metadata.get(f.LAST_UPDATED, "")),
        )
        record = records.get(accession)
        if record is None:
            theirs = state_of(
                bool(row["is_private"]),
                True,
                str(row["title"]),
                str(metadata.get(f.LAST_UPDATED, "")),
            )
        else:
            theirs = state_of(
                record.is_private,
                False,
                record.study_title or record.study_name or "",
                record.raw.get(f.LAST_UPDATED, ""),
            )
        if theirs != ours:
            changes[accession] = theirs
    return changes


def build_ena_sync_sensor(settings: SensorsConfig) -> dg.SensorDefinition:
    """The sync sensor, with its interval, batch size and default status from ``settings``."""

    @dg.sensor(
        name="ena_sync",
        job=ena_ingest_job,
        minimum_interval_seconds=settings.sync_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING
        if settings.sync_running
        else dg.DefaultSensorStatus.STOPPED,
        description="Re-ingests known studies whose privacy, suppression or metadata "
        "changed in ENA.",
    )
    def ena_sync(context: dg.SensorEvaluationContext, ena: ENAClient) -> dg.SensorResult:
        setup_django()
        from emg_django.ena.models import Study as ENAStudy

        after = context.cursor or ""
        known = list(
            ENAStudy.objects.filter(accession__gt=after)
            .order_by("accession")
            .values("accession", "is_private", "is_suppressed", "title", "metadata")[
                : settings.sync_studies_per_tick
            ]
        )
        next_cursor = (
            str(known[-1]["accession"]) if len(known) == settings.sync_studies_per_tick else ""
        )
        changes = changed_studies(ena, known) if known else {}
        existing = set(context.instance.get_dynamic_partitions(STUDY_PARTITIONS_NAME))
        missing = [acc for acc in changes if acc not in existing]
        context.log.info(
            f"checked {len(known)} studies after {after or 'the start'}: {len(changes)} changed"
        )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    partition_key=acc,
                    run_key=f"{RUN_KEY_PREFIX}:{acc}:{state}",
                    tags={TRIGGER_TAG: "ena_sync"},
                )
                for acc, state in changes.items()
            ],
            dynamic_partitions_requests=[ena_studies.build_add_request(missing)] if missing else [],
            cursor=next_cursor,
        )

    return ena_sync


ena_sync = build_ena_sync_sensor(get_config().sensors)
