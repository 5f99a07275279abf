"""The curators' admin: biomes, studies, samples, runs, assemblies and analyses."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from emg_django.analyses.choices import (
    INGEST_JOB_NAME,
    AnalysisPipeline,
    AnalysisStatus,
    analysis_job_name,
)
from emg_django.analyses.models import Analysis, Assembly, Biome, Run, Sample, Study
from emg_django.dagster_launcher import DagsterLauncher, LaunchError

REQUESTED_BY_TAG = "emg/requested_by"

VISIBILITY_FIELDS = ("is_private", "is_suppressed", "webin_submitter")
STATUS_COLOURS = {
    AnalysisStatus.PENDING: "#6c757d",
    AnalysisStatus.RUNNING: "#0d6efd",
    AnalysisStatus.COMPLETED: "#198754",
    AnalysisStatus.ANNOTATIONS_IMPORTED: "#146c43",
    AnalysisStatus.QC_FAILED: "#fd7e14",
    AnalysisStatus.FAILED: "#dc3545",
    AnalysisStatus.BLOCKED: "#6f42c1",
}


class AccessionSearchMixin:
    """Search by any accession (MGnify or ENA) first; fall back to the admin's text search.

    :attr:`accession_lookups` maps a kind of accession to the lookup that finds it on the model.
    """

    accession_lookups: dict[str, str] = {}

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        condition = Q()
        study_pk = Study.pk_from_accession(term)
        analysis_pk = Analysis.pk_from_accession(term)
        if study_pk is not None and "study" in self.accession_lookups:
            condition |= Q(**{self.accession_lookups["study"]: study_pk})
        if analysis_pk is not None and "analysis" in self.accession_lookups:
            condition |= Q(**{self.accession_lookups["analysis"]: analysis_pk})
        for kind, lookup in self.accession_lookups.items():
            if kind.startswith("ena") and term:
                condition |= Q(**{lookup: term})
        if condition and queryset.filter(condition).exists():
            return queryset.filter(condition), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


@admin.register(Biome)
class BiomeAdmin(admin.ModelAdmin):
    list_display = ("lineage", "biome_name", "depth")
    search_fields = ("lineage",)
    readonly_fields = ("depth",)
    list_per_page = 100


class VisibilityReadOnly:
    """Privacy and suppression come from the ENA study: shown, edited only there."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return (*super().get_readonly_fields(request, obj), *VISIBILITY_FIELDS)  # type: ignore[misc]


def launch_for_studies(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, job_name: str
) -> None:
    """Launch ``job_name`` in Dagster for each selected study, reporting each run or refusal."""
    launcher = DagsterLauncher()
    for study in queryset.select_related("ena_study"):
        try:
            run = launcher.launch(
                job_name,
                study.ena_study.accession,
                tags={REQUESTED_BY_TAG: request.user.get_username()},
            )
        except LaunchError as exc:
            modeladmin.message_user(request, f"{study.accession}: {exc}", messages.ERROR)
        else:
            modeladmin.message_user(
                request,
                format_html(
                    '{}: {} run <a href="{}">{}</a> launched',
                    study.accession,
                    job_name,
                    run.url,
                    run.run_id,
                ),
                messages.SUCCESS,
            )


def _launch_action(job_name: str, description: str):  # noqa: ANN202 - an admin action
    @admin.action(description=description, permissions=["change"])
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        launch_for_studies(modeladmin, request, queryset, job_name)

    action.__name__ = f"launch_{job_name}"
    return action


STUDY_ACTIONS = [
    _launch_action(INGEST_JOB_NAME, "Re-ingest from ENA (Dagster)"),
    *(
        _launch_action(
            analysis_job_name(p), f"Analyse with the {p.label.lower()} pipeline (Dagster)"
        )
        for p in AnalysisPipeline
    ),
]


@admin.register(Study)
class StudyAdmin(AccessionSearchMixin, VisibilityReadOnly, admin.ModelAdmin):
    list_display = ("accession", "title", "biome", "is_private", "is_suppressed", "updated_at")
    list_filter = ("is_private", "is_suppressed", ("biome", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("biome",)
    search_fields = ("title",)
    accession_lookups = {"study": "pk", "ena": "ena_accessions__has_accession"}
    autocomplete_fields = ("biome",)
    filter_horizontal = ("watchers",)
    actions = STUDY_ACTIONS
    readonly_fields = (
        "accession",
        "ena_study",
        "ena_accessions",
        "metadata",
        "downloads",
        "results_dir",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("accession", "ena_study", "ena_accessions", "title")}),
        ("Curation", {"fields": ("biome", "watchers")}),
        ("Visibility (set on the ENA study)", {"fields": VISIBILITY_FIELDS}),
        (
            "Results",
            {"fields": ("results_dir", "downloads", "metadata", "created_at", "updated_at")},
        ),
    )
    list_per_page = 50
    show_full_result_count = False


@admin.register(Sample)
class SampleAdmin(AccessionSearchMixin, VisibilityReadOnly, admin.ModelAdmin):
    list_display = ("accession", "sample_title", "biome", "is_private", "updated_at")
    list_filter = ("is_private", "is_suppressed")
    list_select_related = ("biome",)
    search_fields = ("sample_title",)
    accession_lookups = {
        "ena": "ena_accessions__has_accession",
        "ena_study": "studies__ena_accessions__has_accession",
    }
    autocomplete_fields = ("biome",)
    raw_id_fields = ("ena_sample", "studies")
    readonly_fields = ("accession", "ena_accessions", "metadata", "created_at", "updated_at")
    list_per_page = 50
    show_full_result_count = False


@admin.register(Run)
class RunAdmin(AccessionSearchMixin, VisibilityReadOnly, admin.ModelAdmin):
    list_display = (
        "accession",
        "study_accession",
        "experiment_type",
        "instrument_platform",
        "instrument_model",
        "library_layout",
    )
    list_filter = ("experiment_type", "library_strategy", "library_layout", "instrument_platform")
    list_select_related = ("study",)
    search_fields = ("instrument_model",)
    accession_lookups = {
        "study": "study_id",
        "ena": "accession",
        "ena_sample": "sample__accession",
        "ena_study": "study__ena_accessions__has_accession",
    }
    raw_id_fields = ("study", "sample")
    readonly_fields = ("fastq_files", "metadata", "created_at", "updated_at")
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="study", ordering="study_id")
    def study_accession(self, obj: Run) -> str:
        return obj.study.accession


@admin.register(Assembly)
class AssemblyAdmin(AccessionSearchMixin, VisibilityReadOnly, admin.ModelAdmin):
    list_display = ("accession", "study", "assembler_name", "assembler_version", "updated_at")
    list_select_related = ("study",)
    search_fields = ("assembler_name",)
    accession_lookups = {"study": "study_id", "ena": "accession", "ena_run": "runs__accession"}
    raw_id_fields = ("study", "reads_study", "sample", "runs")
    readonly_fields = ("metadata", "created_at", "updated_at")
    list_per_page = 50
    show_full_result_count = False


@admin.register(Analysis)
class AnalysisAdmin(AccessionSearchMixin, VisibilityReadOnly, admin.ModelAdmin):
    list_display = (
        "accession",
        "study_accession",
        "subject",
        "experiment_type",
        "pipeline_version",
        "status_badge",
        "updated_at",
    )
    list_filter = ("status", "experiment_type", "pipeline_version")
    list_select_related = ("study", "run", "assembly")
    search_fields = ("status_reason",)
    accession_lookups = {
        "analysis": "pk",
        "study": "study_id",
        "ena_run": "run__accession",
        "ena_assembly": "assembly__accession",
        "ena_sample": "sample__accession",
        "ena_study": "study__ena_accessions__has_accession",
    }
    raw_id_fields = ("study", "sample", "run", "assembly")
    # The annotations JSON can be megabytes: show its size, never put it in a form.
    exclude = ("annotations",)
    readonly_fields = (
        "annotation_summary",
        "quality_control",
        "downloads",
        "metadata",
        "results_dir",
        "created_at",
        "updated_at",
    )
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="study", ordering="study_id")
    def study_accession(self, obj: Analysis) -> str:
        return obj.study.accession

    @admin.display(description="run / assembly")
    def subject(self, obj: Analysis) -> str:
        return obj.run.accession if obj.run else (obj.assembly.accession if obj.assembly else "—")

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Analysis) -> str:
        colour = STATUS_COLOURS.get(AnalysisStatus(obj.status), "#6c757d")
        return format_html(
            '<span title="{}" style="color:#fff;background:{};'
            'padding:2px 6px;border-radius:4px">{}</span>',
            obj.status_reason,
            colour,
            obj.get_status_display(),
        )

    @admin.display(description="annotations")
    def annotation_summary(self, obj: Analysis) -> str:
        annotations = (
            Analysis.objects.with_annotations().values_list("annotations", flat=True).get(pk=obj.pk)
        )
        if not annotations:
            return "—"
        return ", ".join(f"{kind}: {len(rows)} rows" for kind, rows in sorted(annotations.items()))
