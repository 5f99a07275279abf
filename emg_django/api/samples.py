"""``/samples/``: samples, their runs and assemblies."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from emg_django.analyses.models import Assembly, Run, Sample, Study
from emg_django.api import assemblies as assemblies_api
from emg_django.api import runs as runs_api
from emg_django.api.accessions import ENA_SAMPLE
from emg_django.api.errors import ErrorSchema
from emg_django.api.filters import BiomeFilter, SearchFilter
from emg_django.api.pagination import Paged, PageParams, paginate
from emg_django.api.projections import SAMPLE_COLUMNS, STUDY_COLUMNS, sample_item, study_item
from emg_django.api.queries import first_row, in_biome, ordered, search, visible, visible_pk
from emg_django.api.schemas.assemblies import AssemblyListItem
from emg_django.api.schemas.runs import AnalysedRun
from emg_django.api.schemas.samples import SampleDetail, SampleListItem

TAG = "Samples"
router = Router(tags=[TAG])

ORDER_COLUMNS = {"accession": "accession", "updated_at": "updated_at"}
DEFAULT_ORDER = "-updated_at"
LIST_ERRORS = {400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}
DETAIL_COLUMNS = ("id", *SAMPLE_COLUMNS, "metadata")
#: Studies listed in a sample's detail, newest first.
STUDIES_ORDER = "-id"

SampleOrder = Literal["accession", "-accession", "updated_at", "-updated_at", ""]


class SampleFilters(SearchFilter, BiomeFilter):
    order: SampleOrder | None = Field(
        None, description="Sort key; `-` for descending. Default: latest updates first."
    )


def page_of_samples(queryset: QuerySet, params: PageParams, order: str | None = None) -> dict:
    """A page of sample list items of ``queryset`` (visible samples), ordered by ``order``."""
    return paginate(
        ordered(queryset, order, ORDER_COLUMNS, DEFAULT_ORDER), params, SAMPLE_COLUMNS, sample_item
    )


def by_accession(accession: str) -> Q:
    """A sample by its primary or any other of its ENA accessions."""
    return Q(accession=accession) | Q(ena_accessions__has_accession=accession)


def resolve_sample(request: HttpRequest, accession: str) -> int:
    """The id of the visible sample ``accession``, or 400/404."""
    accession = ENA_SAMPLE.parse(accession)
    return visible_pk(
        visible(Sample, request).filter(by_accession(accession)), f"sample {accession}"
    )


SEARCH_BY_ACCESSION = ((ENA_SAMPLE, by_accession),)


@router.get(
    "/",
    response={200: Paged[SampleListItem], **LIST_ERRORS},
    operation_id="list_mgnify_samples",
    summary="List samples",
    description="Samples of the studies MGnify analyses; filter by biome, text or accession.",
)
def list_samples(
    request: HttpRequest, params: Query[PageParams], filters: Query[SampleFilters]
) -> dict:
    queryset = search(visible(Sample, request), filters.search, SEARCH_BY_ACCESSION, "sample_title")
    return page_of_samples(in_biome(queryset, filters.biome_lineage), params, filters.order)


@router.get(
    "/{accession}",
    response={200: SampleDetail, 400: ErrorSchema, 404: ErrorSchema},
    operation_id="get_mgnify_sample",
    summary="Get a sample",
    description="A sample (by any of its ENA accessions) with its metadata and studies.",
)
def get_sample(request: HttpRequest, accession: str) -> dict:
    accession = ENA_SAMPLE.parse(accession)
    row = first_row(
        visible(Sample, request).filter(by_accession(accession)),
        DETAIL_COLUMNS,
        f"sample {accession}",
    )
    studies = (
        visible(Study, request)
        .filter(samples=row["id"])
        .order_by(STUDIES_ORDER)
        .values(*STUDY_COLUMNS)
    )
    return {
        **sample_item(row),
        "metadata": row["metadata"] or {},
        "studies": [study_item(study) for study in studies],
    }


@router.get(
    "/{accession}/runs/",
    response={200: Paged[AnalysedRun], **LIST_ERRORS},
    operation_id="list_mgnify_sample_runs",
    tags=[TAG, runs_api.TAG],
    summary="List a sample's runs",
    description="The sequencing runs of the sample.",
)
def list_sample_runs(request: HttpRequest, accession: str, params: Query[PageParams]) -> dict:
    pk = resolve_sample(request, accession)
    return runs_api.page_of_runs(visible(Run, request).filter(sample_id=pk), params)


@router.get(
    "/{accession}/assemblies/",
    response={200: Paged[AssemblyListItem], **LIST_ERRORS},
    operation_id="list_mgnify_sample_assemblies",
    tags=[TAG, assemblies_api.TAG],
    summary="List a sample's assemblies",
    description="The assemblies made from the sample's runs.",
)
def list_sample_assemblies(request: HttpRequest, accession: str, params: Query[PageParams]) -> dict:
    pk = resolve_sample(request, accession)
    return assemblies_api.page_of_assemblies(
        visible(Assembly, request).filter(sample_id=pk), params
    )
