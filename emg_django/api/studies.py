"""``/studies/``: MGnify studies (MGYS), their analyses, samples and publications."""

from __future__ import annotations

from typing import Literal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Query, Router
from pydantic import Field

from emg_django.analyses.choices import PipelineVersion
from emg_django.analyses.models import Analysis, Sample, Study
from emg_django.api import analyses as analyses_api
from emg_django.api import samples as samples_api
from emg_django.api.accessions import ENA_STUDY, mgnify_pk_or_none, parse_mgnify
from emg_django.api.downloads import (
    DOWNLOAD_COLUMNS,
    DOWNLOAD_RESPONSES,
    download_items,
    serve_download,
)
from emg_django.api.errors import ErrorSchema
from emg_django.api.filters import BiomeFilter, SearchFilter
from emg_django.api.pagination import Paged, PageParams, paginate, paginate_list
from emg_django.api.projections import (
    STUDY_COLUMNS,
    first_ena_accession,
    study_accession,
    study_item,
)
from emg_django.api.queries import first_row, in_biome, ordered, search, visible, visible_pk
from emg_django.api.schemas.analyses import AnalysisListItem
from emg_django.api.schemas.samples import SampleListItem
from emg_django.api.schemas.studies import (
    PublicationSchema,
    StudyAccessionSchema,
    StudyDetail,
    StudyListItem,
)
from emg_django.core.accessions import MGnifyPrefix

TAG = "Studies"
router = Router(tags=[TAG])

ORDER_COLUMNS = {"accession": "id", "updated_at": "updated_at"}
DEFAULT_ORDER = "-accession"
NOT_FOUND = {404: ErrorSchema}
LIST_ERRORS = {400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}
DETAIL_COLUMNS = (*STUDY_COLUMNS, *DOWNLOAD_COLUMNS)
#: URL name of the route serving a study's files.
DOWNLOAD_ROUTE = "get_mgnify_study_download"

StudyOrder = Literal["accession", "-accession", "updated_at", "-updated_at", ""]


class StudyFilters(SearchFilter, BiomeFilter):
    has_analyses_from_pipeline: PipelineVersion | None = Field(
        None, description="Only studies with analyses from this pipeline version."
    )
    order: StudyOrder | None = Field(
        None, description="Sort key; `-` for descending. Default: newest first."
    )


def page_of_studies(queryset: QuerySet, params: PageParams, order: str | None = None) -> dict:
    """A page of study list items of ``queryset`` (visible studies), ordered by ``order``."""
    return paginate(
        ordered(queryset, order, ORDER_COLUMNS, DEFAULT_ORDER), params, STUDY_COLUMNS, study_item
    )


def resolve_study(request: HttpRequest, accession: str) -> int:
    """The id of the visible study ``accession`` (MGYS…), or 400/404."""
    pk = parse_mgnify(MGnifyPrefix.STUDY, accession)
    return visible_pk(visible(Study, request).filter(pk=pk), f"study {accession}")


def _by_mgnify_accession(term: str) -> bool:
    return mgnify_pk_or_none(MGnifyPrefix.STUDY, term) is not None


SEARCH_BY_ACCESSION = (
    (_by_mgnify_accession, lambda term: Q(pk=mgnify_pk_or_none(MGnifyPrefix.STUDY, term))),
    (ENA_STUDY, lambda term: Q(ena_accessions__has_accession=term)),
)


@router.get(
    "/",
    response={200: Paged[StudyListItem], **LIST_ERRORS},
    operation_id="list_mgnify_studies",
    summary="List studies analysed by MGnify",
    description="MGnify studies mirror studies (projects) in ENA. "
    "Filter by biome, text or accession, "
    "and by the pipeline versions that analysed them.",
)
def list_studies(
    request: HttpRequest, params: Query[PageParams], filters: Query[StudyFilters]
) -> dict:
    queryset = search(visible(Study, request), filters.search, SEARCH_BY_ACCESSION, "title")
    queryset = in_biome(queryset, filters.biome_lineage)
    if filters.has_analyses_from_pipeline:
        analysed = visible(Analysis, request).filter(
            study=OuterRef("pk"), pipeline_version=filters.has_analyses_from_pipeline
        )
        queryset = queryset.filter(Exists(analysed))
    return page_of_studies(queryset, params, filters.order)


@router.get(
    "/insdc/{accession}",
    response={200: StudyAccessionSchema, 400: ErrorSchema, **NOT_FOUND},
    operation_id="get_mgnify_study_accession_by_insdc_accession",
    summary="Find a study's MGnify accession by an ENA accession",
    description="Any of the ENA study's accessions (PRJ…, ERP…/SRP…/DRP…) gives the MGYS.",
)
def study_by_insdc_accession(request: HttpRequest, accession: str) -> dict:
    ena_accession = ENA_STUDY.parse(accession)
    pk = visible_pk(
        visible(Study, request).filter(ena_accessions__has_accession=ena_accession),
        f"MGnify study for ENA accession {ena_accession}",
    )
    return {"accession": study_accession(pk)}


@router.get(
    "/{accession}",
    response={200: StudyDetail, 400: ErrorSchema, **NOT_FOUND},
    operation_id="get_mgnify_study",
    summary="Get a study analysed by MGnify",
    description="A study (MGYS…) with its downloads.",
)
def get_study(request: HttpRequest, accession: str) -> dict:
    pk = parse_mgnify(MGnifyPrefix.STUDY, accession)
    row = first_row(visible(Study, request).filter(pk=pk), DETAIL_COLUMNS, f"study {accession}")
    return {
        **study_item(row),
        "downloads": download_items(request, row, DOWNLOAD_ROUTE, study_accession(pk)),
        "first_accession": first_ena_accession(row["ena_accessions"]),
    }


@router.get(
    "/{accession}/downloads/{alias}",
    response={400: ErrorSchema, **NOT_FOUND},
    operation_id=DOWNLOAD_ROUTE,
    url_name=DOWNLOAD_ROUTE,
    summary="Download a file of a study",
    description="One of the study's `downloads` (study summaries), by its alias: a public file "
    "redirects to the results host; a private one is served to its Webin owner (bearer token) "
    "or an admin.",
    openapi_extra=DOWNLOAD_RESPONSES,
)
def get_study_download(request: HttpRequest, accession: str, alias: str) -> HttpResponseBase:
    return serve_download(request, Study, MGnifyPrefix.STUDY, accession, alias)


@router.get(
    "/{accession}/analyses/",
    response={200: Paged[AnalysisListItem], **LIST_ERRORS},
    operation_id="list_mgnify_study_analyses",
    tags=[TAG, analyses_api.TAG],
    summary="List a study's analyses",
    description="The analyses (MGYA…) of the study's runs and assemblies.",
)
def list_study_analyses(request: HttpRequest, accession: str, params: Query[PageParams]) -> dict:
    pk = resolve_study(request, accession)
    return analyses_api.page_of_analyses(visible(Analysis, request).filter(study_id=pk), params)


@router.get(
    "/{accession}/samples/",
    response={200: Paged[SampleListItem], **LIST_ERRORS},
    operation_id="list_mgnify_study_samples",
    tags=[TAG, samples_api.TAG],
    summary="List a study's samples",
    description="The samples of the study.",
)
def list_study_samples(request: HttpRequest, accession: str, params: Query[PageParams]) -> dict:
    pk = resolve_study(request, accession)
    return samples_api.page_of_samples(visible(Sample, request).filter(studies=pk), params)


@router.get(
    "/{accession}/publications/",
    response={200: Paged[PublicationSchema], **LIST_ERRORS},
    operation_id="list_mgnify_study_publications",
    summary="List a study's publications",
    description="Publications about the study. None are recorded yet, so the list is empty.",
)
def list_study_publications(
    request: HttpRequest, accession: str, params: Query[PageParams]
) -> dict:
    resolve_study(request, accession)
    return paginate_list([], params)
