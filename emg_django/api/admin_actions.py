"""Staff-only actions: launch a study's ingest or analysis in Dagster (through its GraphQL API).

Staff authenticate with their Django session (CSRF-checked, as in the admin) or with HTTP Basic
credentials of a staff account (for scripts).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBasicAuth, SessionAuthIsStaff
from pydantic import Field

from emg_django.analyses.choices import INGEST_JOB_NAME, AnalysisPipeline, analysis_job_name
from emg_django.analyses.models import Study
from emg_django.api.accessions import ENA_STUDY, parse_mgnify
from emg_django.api.errors import ErrorSchema, not_found
from emg_django.api.schemas.base import OutputSchema
from emg_django.api.security import has_session_cookie
from emg_django.core.accessions import MGnifyPrefix, parse_accession
from emg_django.dagster_launcher import DagsterLauncher, LaunchError

REQUESTED_BY_TAG = "emg/requested_by"


class StaffBasicAuth(HttpBasicAuth):
    """HTTP Basic with the credentials of an active staff account."""

    def authenticate(
        self, request: HttpRequest, username: str, password: str
    ) -> AbstractBaseUser | None:
        if "\x00" in username or "\x00" in password:
            # Postgres cannot hold NUL in text: the user lookup would fail with a 500.
            return None
        user = authenticate(request, username=username, password=password)
        return user if user is not None and user.is_active and user.is_staff else None


class StaffSessionAuth(SessionAuthIsStaff):
    """A staff session, CSRF-checked as in the admin; requests without a session are left to the
    other methods (ninja's own class would refuse them on CSRF before Basic auth is tried)."""

    def __call__(self, request: HttpRequest) -> Any:
        if not has_session_cookie(request):
            return None
        return super().__call__(request)


router = Router(auth=[StaffSessionAuth(), StaffBasicAuth()], tags=["Admin"])


class AnalyseRequest(Schema):
    pipeline: AnalysisPipeline = Field(description="Which analysis pipeline to run.")
    run_config: dict[str, Any] = Field(
        default_factory=dict, description="Dagster run config (what a curator decides at launch)."
    )


class IngestRequest(Schema):
    run_config: dict[str, Any] = Field(default_factory=dict, description="Dagster run config.")


class LaunchedRunSchema(OutputSchema):
    run_id: str
    job_name: str
    partition_key: str = Field(description="The study's ENA accession (its Dagster partition).")
    url: str = Field(description="The run in the Dagster UI.")


LAUNCH_RESPONSES = {
    201: LaunchedRunSchema,
    400: ErrorSchema,
    401: ErrorSchema,
    403: ErrorSchema,  # a staff session without a valid CSRF token
    404: ErrorSchema,
    409: ErrorSchema,
    422: ErrorSchema,
    503: ErrorSchema,
}


def _study(accession: str) -> Study:
    """Any study (staff see private ones) by MGYS or any ENA study accession; 400/404 otherwise."""
    if parse_accession(MGnifyPrefix.STUDY, accession) is not None:
        found = Study.objects.filter(pk=parse_mgnify(MGnifyPrefix.STUDY, accession))
    else:
        found = Study.objects.filter(ena_accessions__has_accession=ENA_STUDY.parse(accession))
    study = found.select_related("ena_study").first()
    if study is None:
        raise not_found(f"no study {accession}")
    return study


def _launch(
    request: HttpRequest, accession: str, job_name: str, run_config: dict[str, Any]
) -> Status:
    study = _study(accession)
    try:
        run = DagsterLauncher().launch(
            job_name,
            study.ena_study.accession,
            run_config=run_config,
            tags={REQUESTED_BY_TAG: request.auth.get_username()},  # type: ignore[attr-defined]
        )
    except LaunchError as exc:
        raise HttpError(int(exc.problem), str(exc)) from exc
    return Status(
        201,
        {
            "run_id": run.run_id,
            "job_name": run.job_name,
            "partition_key": run.partition_key,
            "url": run.url,
        },
    )


@router.post(
    "/studies/{accession}/analyse",
    response=LAUNCH_RESPONSES,
    operation_id="admin_analyse_study",
    summary="Analyse a study with a pipeline (staff)",
    description="Launches the pipeline's Dagster job for the study's partition "
    "and returns the run. "
    "503 when Dagster is unreachable, 404 for an unknown study.",
)
def analyse_study(request: HttpRequest, accession: str, body: AnalyseRequest) -> Status:
    return _launch(request, accession, analysis_job_name(body.pipeline), body.run_config)


@router.post(
    "/studies/{accession}/ingest",
    response=LAUNCH_RESPONSES,
    operation_id="admin_ingest_study",
    summary="Re-ingest a study from ENA (staff)",
    description="Launches the ENA ingest job for the study's partition and returns the run.",
)
def ingest_study(request: HttpRequest, accession: str, body: IngestRequest) -> Status:
    return _launch(request, accession, INGEST_JOB_NAME, body.run_config)
