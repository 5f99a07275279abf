"""MGnify's objects: biomes, studies (MGYS), samples, runs, assemblies and analyses (MGYA)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from emg_django.analyses.choices import (
    AnalysisStatus,
    ExperimentType,
    LibraryLayout,
    PipelineVersion,
)
from emg_django.analyses.schemas import Annotations, DownloadFile, FastqFile
from emg_django.core.accessions import MGnifyPrefix, format_accession, parse_accession
from emg_django.core.ena_accessions import is_primary_study_accession
from emg_django.core.fields import AccessionsField, PydanticJSONField
from emg_django.core.mixins import TimeStampedModel, VisibilityControlledModel, VisibilityQuerySet
from emg_django.ena import models as ena_models

BIOME_SEPARATOR = ":"
BIOME_ROOT = "root"


class BiomeQuerySet(models.QuerySet):
    def under(self, lineage: str) -> BiomeQuerySet:
        """Biomes at or below ``lineage`` (``root:Environmental`` matches ``…:Aquatic:Marine``)."""
        lineage = lineage.strip().rstrip(BIOME_SEPARATOR)
        return self.filter(Q(lineage=lineage) | Q(lineage__startswith=lineage + BIOME_SEPARATOR))


class Biome(models.Model):
    """A node of the GOLD-style biome hierarchy, e.g. ``root:Environmental:Aquatic:Marine``."""

    biome_name = models.CharField(max_length=255, help_text="Last part of the lineage.")
    lineage = models.CharField(max_length=255, unique=True)
    depth = models.PositiveSmallIntegerField(editable=False, help_text="root is 1.")

    objects = BiomeQuerySet.as_manager()

    class Meta:
        ordering = ["lineage"]
        indexes = [
            # LIKE 'prefix%' on Postgres needs the pattern opclass (the DB collation is not C).
            models.Index(
                fields=["lineage"], name="biome_lineage_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.lineage

    def save(self, *args: object, **kwargs: object) -> None:
        parts = self.lineage.split(BIOME_SEPARATOR)
        self.depth = len(parts)
        if not self.biome_name:
            self.biome_name = parts[-1]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        parts = self.lineage.split(BIOME_SEPARATOR)
        if parts[0] != BIOME_ROOT or not all(part.strip() for part in parts):
            raise ValidationError(
                {"lineage": f"a lineage starts with '{BIOME_ROOT}' and has no empty parts"}
            )

    @classmethod
    def for_lineage(cls, lineage: str) -> Biome:
        """The biome of ``lineage``, created with its ancestors if missing.

        :raises ValidationError: when ``lineage`` is not ``root:…`` without empty parts.
        """
        lineage = lineage.strip()
        cls(lineage=lineage).clean()
        parts = lineage.split(BIOME_SEPARATOR)
        biome = None
        for depth in range(1, len(parts) + 1):
            biome, _ = cls.objects.get_or_create(lineage=BIOME_SEPARATOR.join(parts[:depth]))
        assert biome is not None
        return biome


class MGnifyObject(VisibilityControlledModel, TimeStampedModel):
    """Shared by MGnify's objects: metadata, privacy inherited from the ENA study, timestamps."""

    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class Study(MGnifyObject):
    """An MGnify study (``MGYS…``), mirroring one ENA study."""

    ena_study = models.OneToOneField(
        ena_models.Study, on_delete=models.PROTECT, related_name="mgnify_study"
    )
    ena_accessions = AccessionsField(help_text="All the ENA study's accessions (PRJ…, ERP…).")
    title = models.TextField(blank=True, default="")
    biome = models.ForeignKey(
        Biome, null=True, blank=True, on_delete=models.SET_NULL, related_name="studies"
    )
    downloads = PydanticJSONField(schema=list[DownloadFile], default=list, blank=True)
    results_dir = models.CharField(max_length=512, blank=True, default="")
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="watched_studies"
    )

    class Meta:
        verbose_name_plural = "studies"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.accession} {self.title[:60]}"

    @property
    def accession(self) -> str:
        return format_accession(MGnifyPrefix.STUDY, self.pk)

    @staticmethod
    def pk_from_accession(accession: str) -> int | None:
        return parse_accession(MGnifyPrefix.STUDY, accession)

    @property
    def first_accession(self) -> str | None:
        """The preferred ENA accession: the BioProject (PRJ…) when there is one."""
        preferred = [acc for acc in self.ena_accessions if is_primary_study_accession(acc)]
        return (preferred or self.ena_accessions or [None])[0]


class Sample(MGnifyObject):
    """A sample, with the studies it belongs to."""

    ena_sample = models.OneToOneField(
        ena_models.Sample, on_delete=models.PROTECT, related_name="mgnify_sample"
    )
    accession = models.CharField(
        max_length=32, unique=True, help_text="Primary ENA accession (SAM…)."
    )
    ena_accessions = AccessionsField(help_text="All its ENA accessions (SAM…, ERS…).")
    sample_title = models.TextField(blank=True, default="")
    biome = models.ForeignKey(
        Biome, null=True, blank=True, on_delete=models.SET_NULL, related_name="samples"
    )
    studies = models.ManyToManyField(Study, related_name="samples")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.accession


class Run(MGnifyObject):
    """A sequencing run (ERR/SRR/DRR…) with its read files."""

    accession = models.CharField(max_length=32, unique=True)
    # Indexed with the id (Meta.indexes): a study's runs come in id order without a sort.
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="runs", db_index=False)
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="runs")
    experiment_type = models.CharField(
        max_length=5, choices=ExperimentType.choices, default=ExperimentType.UNKNOWN, db_index=True
    )
    instrument_platform = models.CharField(max_length=100, blank=True, default="")
    instrument_model = models.CharField(max_length=100, blank=True, default="")
    library_strategy = models.CharField(max_length=100, blank=True, default="")
    library_layout = models.CharField(
        max_length=10, choices=LibraryLayout.choices, blank=True, default=""
    )
    library_source = models.CharField(max_length=100, blank=True, default="")
    fastq_files = PydanticJSONField(schema=list[FastqFile], default=list, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # A study's runs, newest first, a page at a time (not all of them sorted).
            models.Index(fields=["study", "id"], name="run_study_id"),
        ]

    def __str__(self) -> str:
        return self.accession


class Assembly(MGnifyObject):
    """A primary metagenome assembly (ERZ…) and the runs it was assembled from."""

    accession = models.CharField(max_length=32, unique=True)
    study = models.ForeignKey(
        Study,
        on_delete=models.CASCADE,
        related_name="assemblies",
        help_text="Study it is filed under.",
    )
    reads_study = models.ForeignKey(
        Study,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assemblies_of_reads",
        help_text="Study of the reads it was assembled from, when different.",
    )
    sample = models.ForeignKey(
        Sample, null=True, blank=True, on_delete=models.SET_NULL, related_name="assemblies"
    )
    runs = models.ManyToManyField(
        Run, blank=True, related_name="assemblies", help_text="Several for a co-assembly."
    )
    assembler_name = models.CharField(max_length=100, blank=True, default="")
    assembler_version = models.CharField(max_length=50, blank=True, default="")
    status = models.JSONField(default=dict, blank=True, help_text="Flags (e.g. assembly_uploaded).")

    class Meta:
        verbose_name_plural = "assemblies"
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.accession


class AnalysisQuerySet(VisibilityQuerySet):
    def with_annotations(self) -> AnalysisQuerySet:
        """Load the (large, deferred by default) annotations too."""
        return self.defer(None)


class AnalysisManager(models.Manager.from_queryset(AnalysisQuerySet)):  # type: ignore[misc]
    def get_queryset(self) -> AnalysisQuerySet:
        # Annotations can be megabytes: never load them unless asked.
        return super().get_queryset().defer("annotations")


class Analysis(MGnifyObject):
    """One pipeline run on one run or assembly (``MGYA…``)."""

    # Indexed with the id and with the pipeline version (Meta.indexes).
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="analyses", db_index=False
    )
    sample = models.ForeignKey(
        Sample, null=True, blank=True, on_delete=models.SET_NULL, related_name="analyses"
    )
    run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.CASCADE, related_name="analyses"
    )
    assembly = models.ForeignKey(
        Assembly, null=True, blank=True, on_delete=models.CASCADE, related_name="analyses"
    )
    experiment_type = models.CharField(
        max_length=5, choices=ExperimentType.choices, default=ExperimentType.UNKNOWN, db_index=True
    )
    pipeline_version = models.CharField(
        max_length=5, choices=PipelineVersion.choices, db_index=True
    )
    status = models.CharField(
        max_length=24, choices=AnalysisStatus.choices, default=AnalysisStatus.PENDING, db_index=True
    )
    status_reason = models.TextField(
        blank=True, default="", help_text="Why it failed or is blocked."
    )
    quality_control = models.JSONField(
        default=dict, blank=True, help_text="QC summary of the pipeline."
    )
    annotations = PydanticJSONField(schema=Annotations, default=dict, blank=True)
    downloads = PydanticJSONField(schema=list[DownloadFile], default=list, blank=True)
    results_dir = models.CharField(max_length=512, blank=True, default="")

    objects = AnalysisManager()  # type: ignore[misc]

    class Meta:
        verbose_name_plural = "analyses"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(run__isnull=True) | Q(assembly__isnull=True),
                name="analysis_of_run_or_assembly",
            ),
            models.UniqueConstraint(
                fields=["run", "pipeline_version"],
                condition=Q(run__isnull=False),
                name="one_analysis_per_run_and_pipeline",
            ),
            models.UniqueConstraint(
                fields=["assembly", "pipeline_version"],
                condition=Q(assembly__isnull=False),
                name="one_analysis_per_assembly_and_pipeline",
            ),
        ]
        indexes = [
            models.Index(fields=["study", "pipeline_version"], name="analysis_study_pipeline"),
            # A study's analyses, newest first, a page at a time (not all of them sorted).
            models.Index(fields=["study", "id"], name="analysis_study_id"),
        ]

    def __str__(self) -> str:
        return self.accession

    @property
    def accession(self) -> str:
        return format_accession(MGnifyPrefix.ANALYSIS, self.pk)

    @staticmethod
    def pk_from_accession(accession: str) -> int | None:
        return parse_accession(MGnifyPrefix.ANALYSIS, accession)

    def set_status(self, status: AnalysisStatus, reason: str = "") -> None:
        """Set the status and its reason together (saved by the caller)."""
        self.status = status
        self.status_reason = reason
