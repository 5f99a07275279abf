"""Abstract models for behaviour shared by the ENA mirrors and the MGnify objects."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class TimeStampedModel(models.Model):
    """Creation and last-change times."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class VisibilityQuerySet(models.QuerySet):
    """Queries that respect privacy and suppression."""

    def public(self) -> VisibilityQuerySet:
        """Objects anyone may see: public and not suppressed."""
        return self.filter(is_private=False, is_suppressed=False)

    def visible_to(self, webin_id: str | None, *, is_admin: bool = False) -> VisibilityQuerySet:
        """Objects a caller may see: public ones, plus private ones they own; admins see all.

        :param webin_id: the caller's Webin account, ``None`` when anonymous.
        :param is_admin: staff see private and suppressed objects too.
        """
        if is_admin:
            return self.all()
        if not webin_id:
            return self.public()
        return self.filter(Q(is_private=False) | Q(webin_submitter=webin_id), is_suppressed=False)


class VisibilityControlledModel(models.Model):
    """Privacy, suppression and Webin owner: set on the ENA study, propagated below it."""

    is_private = models.BooleanField(default=False, help_text="Embargoed in ENA.")
    is_suppressed = models.BooleanField(default=False, help_text="Suppressed (withdrawn) in ENA.")
    # NULL (not ""): "no owner" never equals a caller's Webin id, not even an empty one.
    webin_submitter = models.CharField(  # noqa: DJ001
        max_length=32, blank=True, null=True, db_index=True, help_text="Webin account that owns it."
    )

    objects = VisibilityQuerySet.as_manager()

    #: The fields that travel together from the ENA study to everything under it.
    VISIBILITY_FIELDS = ("is_private", "is_suppressed", "webin_submitter")

    class Meta:
        abstract = True

    def visibility(self) -> dict[str, object]:
        """The visibility fields as a dict (to copy onto objects below this one)."""
        return {field: getattr(self, field) for field in self.VISIBILITY_FIELDS}
