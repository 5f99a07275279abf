"""Admin for the ENA mirrors. Privacy and suppression are edited here: they propagate down."""

from __future__ import annotations

from django.contrib import admin

from emg_django.ena.models import Sample, Study


class ENAObjectAdmin(admin.ModelAdmin):
    list_display = (
        "accession",
        "title",
        "is_private",
        "is_suppressed",
        "webin_submitter",
        "fetched_at",
    )
    list_filter = ("is_private", "is_suppressed")
    search_fields = ("accession", "title", "webin_submitter")
    readonly_fields = (
        "accession",
        "additional_accessions",
        "metadata",
        "fetched_at",
        "created_at",
        "updated_at",
    )
    list_per_page = 50
    show_full_result_count = False


@admin.register(Study)
class ENAStudyAdmin(ENAObjectAdmin):
    fieldsets = (
        (None, {"fields": ("accession", "additional_accessions", "title")}),
        (
            "Visibility (propagates to every MGnify object of the study)",
            {"fields": ("is_private", "is_suppressed", "webin_submitter")},
        ),
        ("From ENA", {"fields": ("metadata", "fetched_at", "created_at", "updated_at")}),
    )


@admin.register(Sample)
class ENASampleAdmin(ENAObjectAdmin):
    list_display = ("accession", "title", "study", "is_private", "is_suppressed", "fetched_at")
    list_select_related = ("study",)
    raw_id_fields = ("study",)
