"""Studies as partitions: one dynamic partition per ENA study, keyed by its accession."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from emg_django.core.ena_accessions import is_study_accession

STUDY_PARTITIONS_NAME = "ena_studies"

ena_studies = dg.DynamicPartitionsDefinition(name=STUDY_PARTITIONS_NAME)


class InvalidStudyKey(ValueError):
    """A partition key that is not an ENA study accession."""


def validate_study_key(key: str) -> str:
    """Return ``key`` if it is an ENA study accession (Dagster itself accepts any string).

    :raises InvalidStudyKey: naming the key and what is expected.
    """
    if not isinstance(key, str) or not is_study_accession(key):
        raise InvalidStudyKey(
            f"{key!r} is not an ENA study accession "
            "(expected PRJEB…/PRJNA…/PRJDB… or ERP…/SRP…/DRP…)"
        )
    return key


def new_study_keys(instance: dg.DagsterInstance, accessions: Iterable[str]) -> list[str]:
    """The valid accessions that are not partitions yet, in order, without duplicates.

    Loads the existing keys once: a per-key ``has_dynamic_partition`` is ~100× slower at scale.

    :raises InvalidStudyKey: on the first accession that is not a study accession.
    """
    existing = set(instance.get_dynamic_partitions(STUDY_PARTITIONS_NAME))
    keys: list[str] = []
    for accession in accessions:
        validate_study_key(accession)
        if accession not in existing:
            existing.add(accession)
            keys.append(accession)
    return keys


def add_study_partitions(instance: dg.DagsterInstance, accessions: Iterable[str]) -> list[str]:
    """Validate and add study partitions; return the keys that were new."""
    keys = new_study_keys(instance, accessions)
    if keys:
        instance.add_dynamic_partitions(STUDY_PARTITIONS_NAME, keys)
    return keys
