"""Mirrors of ENA objects: what ENA says, as fetched, before MGnify adds anything."""

from __future__ import annotations

from django.db import models

from emg_django.core.fields import AccessionsField
from emg_django.core.mixins import TimeStampedModel, VisibilityControlledModel


class ENAObject(VisibilityControlledModel, TimeStampedModel):
    """Shared shape of an ENA mirror: accessions, title, ENA's record and when it was fetched."""

    accession = models.CharField(max_length=32, unique=True, help_text="Primary ENA accession.")
    additional_accessions = AccessionsField(help_text="Secondary accessions (ERP…, ERS…).")
    title = models.TextField(blank=True, default="")
    metadata = models.JSONField(
        default=dict, blank=True, help_text="ENA's record, empty fields out."
    )
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="Last read from ENA.")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.accession

    @property
    def accessions(self) -> list[str]:
        """Primary accession first, then the secondary ones."""
        return [
            self.accession,
            *[acc for acc in self.additional_accessions if acc != self.accession],
        ]


class Study(ENAObject):
    """An ENA study (project) as ENA describes it."""

    class Meta:
        verbose_name = "ENA study"
        verbose_name_plural = "ENA studies"
        ordering = ["accession"]


class Sample(ENAObject):
    """An ENA (BioSamples) sample, under the ENA study it was found in."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="samples")

    class Meta:
        verbose_name = "ENA sample"
        verbose_name_plural = "ENA samples"
        ordering = ["accession"]
