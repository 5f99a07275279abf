"""``/auth/``: Webin login and the tokens it gives (``login`` and MGnify's ``sliding`` forms)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError

from emg_django.api.errors import ErrorSchema
from emg_django.api.schemas.auth import TokenRequest, TokenSchema, TokenVerified, WebinCredentials
from emg_django.api.security import TOKEN_TYPE, InvalidToken, IssuedToken, decode_token, issue_token
from emg_django.api.webin import WebinUnavailable, check_credentials

TAG = "Authentication"
router = Router(tags=[TAG], auth=None)

#: 400 is a body that is not JSON at all, 422 one without the expected fields.
LOGIN_RESPONSES = {
    200: TokenSchema,
    400: ErrorSchema,
    401: ErrorSchema,
    422: ErrorSchema,
    503: ErrorSchema,
}
TOKEN_RESPONSES = {200: TokenSchema, 400: ErrorSchema, 401: ErrorSchema, 422: ErrorSchema}
LOGIN_DESCRIPTION = (
    "Checks the Webin credentials with ENA and returns a signed token. Send it as "
    "`Authorization: Bearer <token>` to see your private data. 401 for credentials Webin "
    "rejects, 503 when Webin cannot be reached."
)


def _token_body(issued: IssuedToken) -> dict:
    return {
        "token": issued.token,
        "token_type": TOKEN_TYPE,
        "webin_id": issued.webin_id,
        "expires_at": issued.expires_at,
        "refresh_expires_at": issued.refresh_expires_at,
    }


def _login(credentials: WebinCredentials) -> dict:
    username = credentials.username.strip()
    try:
        accepted = check_credentials(username, credentials.password)
    except WebinUnavailable as exc:
        raise HttpError(503, f"cannot check Webin credentials now: {exc}") from exc
    if not accepted:
        raise HttpError(401, "invalid Webin credentials")
    return _token_body(issue_token(username))


@router.post(
    "/login",
    response=LOGIN_RESPONSES,
    operation_id="webin_login",
    summary="Log in with Webin credentials",
    description=LOGIN_DESCRIPTION,
)
def login(request: HttpRequest, credentials: WebinCredentials) -> dict:
    return _login(credentials)


@router.post(
    "/sliding",
    response=LOGIN_RESPONSES,
    operation_id="token_obtain_sliding",
    summary="Obtain a token with Webin credentials",
    description=LOGIN_DESCRIPTION,
)
def obtain_sliding_token(request: HttpRequest, credentials: WebinCredentials) -> dict:
    return _login(credentials)


@router.post(
    "/sliding/refresh",
    response=TOKEN_RESPONSES,
    operation_id="token_refresh_sliding",
    summary="Refresh a token",
    description="A token, even expired, can be exchanged for a fresh one "
    "until its `refresh_expires_at`.",
)
def refresh_token(request: HttpRequest, body: TokenRequest) -> dict:
    try:
        claims = decode_token(body.token, allow_expired=True)
    except InvalidToken as exc:
        raise HttpError(401, str(exc)) from exc
    return _token_body(issue_token(claims["sub"]))


@router.post(
    "/verify",
    response={200: TokenVerified, 400: ErrorSchema, 401: ErrorSchema, 422: ErrorSchema},
    operation_id="token_verify",
    summary="Verify a token",
    description="200 with the token's Webin id and expiry when it is valid, else 401.",
)
def verify_token(request: HttpRequest, body: TokenRequest) -> dict:
    try:
        claims = decode_token(body.token)
    except InvalidToken as exc:
        raise HttpError(401, str(exc)) from exc
    return {
        "webin_id": claims["sub"],
        "expires_at": dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
    }
