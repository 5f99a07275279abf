"""``/runs/``: sequencing runs, their analyses and assemblies."""

from __future__ import annotations

from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from emg_django.analyses.choices import ExperimentType
from emg_django.analyses.models import Analysis, Assembly, Run
from emg_django.api import analyses as analyses_api
from emg_django.api import assemblies as assemblies_api
from emg_django.api.accessions import ENA_RUN, parse_mgnify
from emg_django.api.errors import ErrorSchema
from emg_django.api.filters import StudyAccessionFilter
from emg_django.api.pagination import Paged, PageParams, paginate
from emg_django.api.projections import (
    RUN_COLUMNS,
    SAMPLE_COLUMNS,
    STUDY_COLUMNS,
    columns,
    run_item,
    sample_item,
    study_item,
)
from emg_django.api.queries import first_row, ordered, visible, visible_pk
from emg_django.api.schemas.analyses import AnalysisListItem
from emg_django.api.schemas.assemblies import AssemblyListItem
from emg_django.api.schemas.runs import AnalysedRun, RunDetail
from emg_django.core.accessions import MGnifyPrefix

TAG = "Runs"
router = Router(tags=[TAG])

ORDER_COLUMNS = {"accession": "accession"}
DEFAULT_ORDER = "accession"
LIST_ERRORS = {400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}
DETAIL_COLUMNS = tuple(
    dict.fromkeys(
        (*RUN_COLUMNS, *columns(SAMPLE_COLUMNS, "sample__"), *columns(STUDY_COLUMNS, "study__"))
    )
)

RunOrder = Literal["accession", "-accession", ""]


class RunFilters(StudyAccessionFilter):
    has_experiment_type: ExperimentType | None = Field(
        None, description="Only runs of this experiment type."
    )
    order: RunOrder | None = Field(
        None, description="Sort key; `-` for descending. Default: accession."
    )


def page_of_runs(queryset: QuerySet, params: PageParams, order: str | None = None) -> dict:
    """A page of run list items of ``queryset`` (visible runs), ordered by ``order``."""
    return paginate(
        ordered(queryset, order, ORDER_COLUMNS, DEFAULT_ORDER), params, RUN_COLUMNS, run_item
    )


def resolve_run(request: HttpRequest, accession: str) -> int:
    """The id of the visible run ``accession``, or 400/404."""
    accession = ENA_RUN.parse(accession)
    return visible_pk(visible(Run, request).filter(accession=accession), f"run {accession}")


@router.get(
    "/",
    response={200: Paged[AnalysedRun], **LIST_ERRORS},
    operation_id="list_mgnify_runs",
    summary="List runs",
    description="Sequencing runs of the studies MGnify analyses.",
)
def list_runs(request: HttpRequest, params: Query[PageParams], filters: Query[RunFilters]) -> dict:
    queryset = visible(Run, request)
    if filters.has_experiment_type:
        queryset = queryset.filter(experiment_type=filters.has_experiment_type)
    if filters.study_accession:
        queryset = queryset.filter(
            study_id=parse_mgnify(MGnifyPrefix.STUDY, filters.study_accession)
        )
    return page_of_runs(queryset, params, filters.order)


@router.get(
    "/{accession}",
    response={200: RunDetail, 400: ErrorSchema, 404: ErrorSchema},
    operation_id="get_mgnify_run",
    summary="Get a run",
    description="A run with its sample and study.",
)
def get_run(request: HttpRequest, accession: str) -> dict:
    accession = ENA_RUN.parse(accession)
    row = first_row(
        visible(Run, request).filter(accession=accession), DETAIL_COLUMNS, f"run {accession}"
    )
    return {
        **run_item(row),
        "sample": sample_item(row, "sample__"),
        "study": study_item(row, "study__"),
    }


@router.get(
    "/{accession}/analyses/",
    response={200: Paged[AnalysisListItem], **LIST_ERRORS},
    operation_id="list_mgnify_run_analyses",
    tags=[TAG, analyses_api.TAG],
    summary="List a run's analyses",
    description="The analyses (MGYA…) of the run, one per pipeline version.",
)
def list_run_analyses(request: HttpRequest, accession: str, params: Query[PageParams]) -> dict:
    pk = resolve_run(request, accession)
    return analyses_api.page_of_analyses(visible(Analysis, request).filter(run_id=pk), params)


@router.get(
    "/{accession}/assemblies/",
    response={200: Paged[AssemblyListItem], **LIST_ERRORS},
    operation_id="list_mgnify_run_assemblies",
    tags=[TAG, assemblies_api.TAG],
    summary="List a run's assemblies",
    description="The assemblies the run's reads went into.",
)
def list_run_assemblies(request: HttpRequest, accession: str, params: Query[PageParams]) -> dict:
    pk = resolve_run(request, accession)
    return assemblies_api.page_of_assemblies(visible(Assembly, request).filter(runs=pk), params)
