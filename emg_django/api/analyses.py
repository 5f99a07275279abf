"""``/analyses/``: analyses (MGYA) and their annotations."""

from __future__ import annotations

import re
from typing import Literal

from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Query, Router
from pydantic import Field

from emg_django.analyses.choices import AnnotationType, ExperimentType, PipelineVersion
from emg_django.analyses.models import Analysis, Run
from emg_django.api.accessions import parse_mgnify, shown
from emg_django.api.downloads import (
    DOWNLOAD_COLUMNS,
    DOWNLOAD_RESPONSES,
    download_items,
    serve_download,
)
from emg_django.api.errors import ErrorSchema, bad_request, not_found
from emg_django.api.filters import StudyAccessionFilter
from emg_django.api.pagination import Paged, PageParams, paginate, paginate_list
from emg_django.api.projections import (
    ANALYSIS_LIST_COLUMNS,
    RUN_COLUMNS,
    analysis_item,
    run_item,
)
from emg_django.api.queries import first_row, ordered, visible
from emg_django.api.schemas.analyses import (
    AnalysisDetail,
    AnalysisListItem,
    AnalysisWithAnnotations,
    AnnotationItemSchema,
)
from emg_django.core.accessions import MGnifyPrefix

TAG = "Analyses"
router = Router(tags=[TAG])

ORDER_COLUMNS = {"accession": "id", "updated_at": "updated_at"}
DEFAULT_ORDER = "-accession"
LIST_ERRORS = {400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}
DETAIL_COLUMNS = (
    *ANALYSIS_LIST_COLUMNS,
    "run_id",
    "assembly_id",
    "quality_control",
    *DOWNLOAD_COLUMNS,
    "metadata",
)
#: URL name of the route serving an analysis's files.
DOWNLOAD_ROUTE = "get_mgnify_analysis_download"
#: Annotation types are snake_case keys (``taxonomies__ssu``, ``pfams``…).
ANNOTATION_TYPE = re.compile(r"[a-z0-9_]{1,64}")

AnalysisOrder = Literal["accession", "-accession", "updated_at", "-updated_at", ""]


class AnalysisFilters(StudyAccessionFilter):
    pipeline_version: PipelineVersion | None = Field(
        None, description="Only analyses by this pipeline version."
    )
    experiment_type: ExperimentType | None = Field(
        None, description="Only analyses of this experiment type."
    )
    order: AnalysisOrder | None = Field(
        None, description="Sort key; `-` for descending. Default: newest first."
    )


def page_of_analyses(queryset: QuerySet, params: PageParams, order: str | None = None) -> dict:
    """A page of analysis list items of ``queryset`` (visible analyses), with their run,
    sample and assembly."""
    return paginate(
        ordered(queryset, order, ORDER_COLUMNS, DEFAULT_ORDER),
        params,
        ANALYSIS_LIST_COLUMNS,
        analysis_item,
    )


def _detail(request: HttpRequest, row: dict) -> dict:
    """An analysis detail from its row; one more query for the runs of an assembly."""
    item = analysis_item(row)
    if item["run"] is not None:
        read_runs: list[dict] | None = [item["run"]]
    elif row["assembly_id"] is not None:
        runs = (
            visible(Run, request)
            .filter(assemblies=row["assembly_id"])
            .order_by("id")
            .values(*RUN_COLUMNS)
        )
        read_runs = [run_item(run) for run in runs]
    else:
        read_runs = None
    return {
        **item,
        "read_run": read_runs,
        "quality_control_summary": row["quality_control"] or None,
        "downloads": download_items(request, row, DOWNLOAD_ROUTE, item["accession"]),
        "results_dir": row["results_dir"],
        "metadata": row["metadata"] or {},
    }


@router.get(
    "/",
    response={200: Paged[AnalysisListItem], **LIST_ERRORS},
    operation_id="list_mgnify_analyses",
    summary="List analyses",
    description="Analyses (MGYA…) of runs and assemblies by the MGnify pipelines.",
)
def list_analyses(
    request: HttpRequest, params: Query[PageParams], filters: Query[AnalysisFilters]
) -> dict:
    queryset = visible(Analysis, request)
    if filters.pipeline_version:
        queryset = queryset.filter(pipeline_version=filters.pipeline_version)
    if filters.experiment_type:
        queryset = queryset.filter(experiment_type=filters.experiment_type)
    if filters.study_accession:
        queryset = queryset.filter(
            study_id=parse_mgnify(MGnifyPrefix.STUDY, filters.study_accession)
        )
    return page_of_analyses(queryset, params, filters.order)


@router.get(
    "/{accession}",
    response={200: AnalysisDetail, 400: ErrorSchema, 404: ErrorSchema},
    operation_id="get_mgnify_analysis",
    summary="Get an analysis",
    description="An analysis (MGYA…) with its QC summary and downloads; "
    "annotations are under `/annotations`.",
)
def get_analysis(request: HttpRequest, accession: str) -> dict:
    pk = parse_mgnify(MGnifyPrefix.ANALYSIS, accession)
    return _detail(
        request,
        first_row(
            visible(Analysis, request).filter(pk=pk), DETAIL_COLUMNS, f"analysis {accession}"
        ),
    )


@router.get(
    "/{accession}/annotations",
    response={200: AnalysisWithAnnotations, 400: ErrorSchema, 404: ErrorSchema},
    operation_id="get_mgnify_analysis_with_annotations",
    summary="Get an analysis with all its annotations",
    description="The analysis detail plus every annotation table "
    "(taxonomies per reference database, Pfams…).",
)
def get_analysis_annotations(request: HttpRequest, accession: str) -> dict:
    pk = parse_mgnify(MGnifyPrefix.ANALYSIS, accession)
    queryset = visible(Analysis, request).with_annotations().filter(pk=pk)  # type: ignore[attr-defined]
    row = first_row(queryset, (*DETAIL_COLUMNS, "annotations"), f"analysis {accession}")
    return {**_detail(request, row), "annotations": row["annotations"] or {}}


@router.get(
    "/{accession}/annotations/{annotation_type}",
    response={200: Paged[AnnotationItemSchema], **LIST_ERRORS},
    operation_id="get_mgnify_analysis_annotations_of_type",
    summary="List an analysis's annotations of one type",
    description="One annotation table, paginated. Types: "
    + ", ".join(f"`{value}`" for value in AnnotationType.values),
)
def list_analysis_annotations_of_type(
    request: HttpRequest, accession: str, annotation_type: str, params: Query[PageParams]
) -> dict:
    pk = parse_mgnify(MGnifyPrefix.ANALYSIS, accession)
    if not ANNOTATION_TYPE.fullmatch(annotation_type):
        raise bad_request(
            f"malformed annotation type {shown(annotation_type)}: expected e.g. taxonomies__ssu"
        )
    # Only the one table leaves the database (``annotations -> 'type'``), not the whole JSON.
    queryset = (
        visible(Analysis, request)
        .filter(pk=pk)
        .annotate(table=KeyTransform(annotation_type, "annotations"))
    )
    row = first_row(queryset, ("id", "table"), f"analysis {accession}")
    if row["table"] is None:
        if annotation_type not in AnnotationType.values:
            known = ", ".join(AnnotationType.values)
            raise not_found(
                f"unknown annotation type {shown(annotation_type)}; known types: {known}"
            )
        raise not_found(f"analysis {accession} has no {annotation_type} annotations")
    return paginate_list(row["table"], params)


@router.get(
    "/{accession}/downloads/{alias}",
    response={400: ErrorSchema, 404: ErrorSchema},
    operation_id=DOWNLOAD_ROUTE,
    url_name=DOWNLOAD_ROUTE,
    summary="Download a file of an analysis",
    description="One of the analysis's `downloads`, by its alias: a public file redirects to the "
    "results host; a private one is served to its Webin owner (bearer token) or an admin.",
    openapi_extra=DOWNLOAD_RESPONSES,
)
def get_analysis_download(request: HttpRequest, accession: str, alias: str) -> HttpResponseBase:
    return serve_download(request, Analysis, MGnifyPrefix.ANALYSIS, accession, alias)
