"""``/assemblies/``: assemblies and their analyses."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from ninja import Query, Router

from emg_django.analyses.models import Analysis, Assembly, Run, Sample, Study
from emg_django.api import analyses as analyses_api
from emg_django.api.accessions import ENA_ASSEMBLY
from emg_django.api.errors import ErrorSchema
from emg_django.api.pagination import Paged, PageParams, paginate
from emg_django.api.projections import ASSEMBLY_COLUMNS, assembly_item, study_accession
from emg_django.api.queries import first_row, ordered, visible, visible_pk
from emg_django.api.schemas.analyses import AnalysisListItem
from emg_django.api.schemas.assemblies import AssemblyDetail, AssemblyListItem

TAG = "Assemblies"
router = Router(tags=[TAG])

ORDER_COLUMNS = {"accession": "accession"}
DEFAULT_ORDER = "accession"
LIST_ERRORS = {400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}
DETAIL_COLUMNS = (
    "id",
    *ASSEMBLY_COLUMNS,
    "sample__accession",
    "study_id",
    "reads_study_id",
    "assembler_name",
    "assembler_version",
    "metadata",
    "status",
)


def page_of_assemblies(queryset: QuerySet, params: PageParams, order: str | None = None) -> dict:
    """A page of assembly list items of ``queryset`` (visible assemblies)."""
    return paginate(
        ordered(queryset, order, ORDER_COLUMNS, DEFAULT_ORDER),
        params,
        ASSEMBLY_COLUMNS,
        assembly_item,
    )


@router.get(
    "/",
    response={200: Paged[AssemblyListItem], **LIST_ERRORS},
    operation_id="list_assemblies",
    summary="List assemblies",
    description="Primary metagenome assemblies (ERZ…) of the studies MGnify analyses.",
)
def list_assemblies(request: HttpRequest, params: Query[PageParams]) -> dict:
    return page_of_assemblies(visible(Assembly, request), params)


@router.get(
    "/{accession}",
    response={200: AssemblyDetail, 400: ErrorSchema, 404: ErrorSchema},
    operation_id="get_assembly",
    summary="Get an assembly",
    description="An assembly with the run, sample and studies it comes from and its assembler.",
)
def get_assembly(request: HttpRequest, accession: str) -> dict:
    accession = ENA_ASSEMBLY.parse(accession)
    # The sample and reads study may be another study's, hidden from the caller: not named then.
    queryset = (
        visible(Assembly, request)
        .filter(accession=accession)
        .annotate(
            sample_visible=Exists(visible(Sample, request).filter(pk=OuterRef("sample_id"))),
            reads_study_visible=Exists(
                visible(Study, request).filter(pk=OuterRef("reads_study_id"))
            ),
        )
    )
    row = first_row(
        queryset,
        (*DETAIL_COLUMNS, "sample_visible", "reads_study_visible"),
        f"assembly {accession}",
    )
    run = (
        visible(Run, request)
        .filter(assemblies=row["id"])
        .order_by("id")
        .values_list("accession", flat=True)
    )
    reads_study = row["reads_study_id"] if row["reads_study_visible"] else None
    return {
        **assembly_item(row),
        "run_accession": run.first(),
        "sample_accession": row["sample__accession"] if row["sample_visible"] else None,
        "reads_study_accession": study_accession(reads_study) if reads_study else None,
        "assembly_study_accession": study_accession(row["study_id"]),
        "assembler_name": row["assembler_name"] or None,
        "assembler_version": row["assembler_version"] or None,
        "metadata": row["metadata"] or {},
        "status": row["status"] or {},
    }


@router.get(
    "/{accession}/analyses",
    response={200: Paged[AnalysisListItem], **LIST_ERRORS},
    operation_id="list_analyses_for_assembly",
    tags=[TAG, analyses_api.TAG],
    summary="List an assembly's analyses",
    description="The analyses (MGYA…) of the assembly.",
)
def list_assembly_analyses(request: HttpRequest, accession: str, params: Query[PageParams]) -> dict:
    accession = ENA_ASSEMBLY.parse(accession)
    pk = visible_pk(visible(Assembly, request).filter(accession=accession), f"assembly {accession}")
    return analyses_api.page_of_analyses(visible(Analysis, request).filter(assembly_id=pk), params)
