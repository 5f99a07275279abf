"""``/my-data/``: a Webin account's own private data (a token is required)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from emg_django.analyses.models import Study
from emg_django.api import studies as studies_api
from emg_django.api.errors import ErrorSchema
from emg_django.api.pagination import Paged, PageParams
from emg_django.api.queries import visible
from emg_django.api.schemas.studies import StudyListItem
from emg_django.api.security import WebinAuth, caller_of

TAG = "Private data"
router = Router(tags=[TAG], auth=WebinAuth())


@router.get(
    "/studies/",
    response={200: Paged[StudyListItem], 401: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema},
    operation_id="list_my_private_studies",
    summary="List my private studies",
    description="The private studies the logged-in Webin account owns "
    "(log in with `POST auth/login`).",
)
def list_my_studies(request: HttpRequest, params: Query[PageParams]) -> dict:
    webin_id = caller_of(request).webin_id
    queryset = visible(Study, request).filter(is_private=True, webin_submitter=webin_id)
    return studies_api.page_of_studies(queryset, params)
