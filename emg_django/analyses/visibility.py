"""Privacy, suppression and Webin owner flow from the ENA study to every MGnify object under it.

One place does the propagation (:func:`propagate_visibility`): the ingest assets call it after
their bulk writes (which fire no signals), and a ``post_save`` receiver calls it when a curator
or any other ORM save changes an ENA study.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from emg_django.analyses.models import Analysis, Assembly, Run, Sample, Study
from emg_django.ena import models as ena_models


def propagate_visibility(ena_study_ids: Iterable[int]) -> int:
    """Copy each ENA study's visibility onto everything under it.

    One UPDATE per table and study; rows already in step are not touched (their ``updated_at``
    stays).

    :param ena_study_ids: primary keys of :class:`emg_django.ena.models.Study`.
    :return: the number of rows changed.
    """
    changed = 0
    with transaction.atomic():
        for ena_study in ena_models.Study.objects.filter(pk__in=list(ena_study_ids)):
            changed += _propagate_one(ena_study)
    return changed


def _propagate_one(ena_study: ena_models.Study) -> int:
    values = ena_study.visibility()
    out_of_step = ~_matches(values)
    study_ids = Study.objects.filter(ena_study=ena_study).values("pk")
    querysets = [
        ena_models.Sample.objects.filter(study=ena_study),
        Study.objects.filter(ena_study=ena_study),
        Sample.objects.filter(ena_sample__study=ena_study),
        Run.objects.filter(study__in=study_ids),
        Assembly.objects.filter(study__in=study_ids),
        Analysis.objects.filter(study__in=study_ids),
    ]
    now = timezone.now()
    return sum(qs.filter(out_of_step).update(**values, updated_at=now) for qs in querysets)


def _matches(values: dict[str, object]) -> Q:
    condition = Q()
    for field, value in values.items():
        condition &= Q(**{f"{field}__isnull": True}) if value is None else Q(**{field: value})
    return condition


@receiver(post_save, sender=ena_models.Study, dispatch_uid="emg_propagate_visibility")
def _on_ena_study_saved(
    sender: type, instance: ena_models.Study, created: bool, **_: object
) -> None:
    if not created:
        propagate_visibility([instance.pk])
