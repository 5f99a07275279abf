"""Who is calling: Webin JWTs (signed here after a Webin login) and Django staff sessions.

Tokens are HS256 JWTs with ``sub`` (the Webin id), ``iat``, ``exp``, ``iss`` and a
``refresh_exp`` until which a token, even expired, may be exchanged for a fresh one
(the "sliding" tokens of MGnify's public API).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from emg_django.config import get_config

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "mgnify-api"
TOKEN_TYPE = "sliding"
#: How long after issue a token may still be refreshed (never shorter than its own lifetime).
REFRESH_LIFETIME = dt.timedelta(days=1)
BEARER = "bearer"


class InvalidToken(Exception):
    """A token that is malformed, badly signed, of another issuer or expired; says which."""


@dataclasses.dataclass(frozen=True)
class Caller:
    """The identity a request acts with (anonymous when ``webin_id`` is ``None``)."""

    webin_id: str | None = None
    is_admin: bool = False

    def __bool__(self) -> bool:
        # django-ninja treats a falsy authentication result as "not authenticated".
        return True


ANONYMOUS = Caller()


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    token: str
    webin_id: str
    expires_at: dt.datetime
    refresh_expires_at: dt.datetime


def _secret() -> str:
    configured = get_config().api.jwt_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    if settings.DEBUG:
        # Development only: derived from the (per-process in debug) Django secret key.
        return hashlib.sha256(f"jwt:{settings.SECRET_KEY}".encode()).hexdigest()
    raise ImproperlyConfigured("EMG_API__JWT_SECRET must be set unless EMG_DJANGO__DEBUG=true")


def check_configuration() -> None:
    """Fail at start-up, not at the first login, when no signing key is configured."""
    _secret()


def issue_token(webin_id: str, now: dt.datetime | None = None) -> IssuedToken:
    """A signed token for ``webin_id``, valid for ``api.jwt_ttl_minutes``.

    :param now: issue time (tests pass one to make expired tokens).
    """
    now = now or dt.datetime.now(dt.UTC)
    expires_at = now + dt.timedelta(minutes=get_config().api.jwt_ttl_minutes)
    refresh_expires_at = max(expires_at, now + REFRESH_LIFETIME)
    claims = {
        "sub": webin_id,
        "iss": JWT_ISSUER,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "refresh_exp": int(refresh_expires_at.timestamp()),
        "token_type": TOKEN_TYPE,
    }
    token = jwt.encode(claims, _secret(), algorithm=JWT_ALGORITHM)
    return IssuedToken(token, webin_id, expires_at, refresh_expires_at)


def decode_token(token: str, *, allow_expired: bool = False) -> dict[str, Any]:
    """The claims of a valid token.

    :param allow_expired: accept a token past ``exp`` (for refresh: ``refresh_exp`` is checked).
    :raises InvalidToken: with a message saying what is wrong.
    """
    try:
        claims = jwt.decode(
            token,
            _secret(),
            algorithms=[JWT_ALGORITHM],
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": not allow_expired},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"invalid token: {exc}") from exc
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("invalid token: no subject")
    if allow_expired:
        refresh_exp = claims.get("refresh_exp")
        if not isinstance(refresh_exp, int) or refresh_exp < dt.datetime.now(dt.UTC).timestamp():
            raise InvalidToken("token can no longer be refreshed: log in again")
    return claims


def has_session_cookie(request: HttpRequest) -> bool:
    """Whether the request sends a session cookie the session store can look up.

    Postgres text cannot hold NUL, which a quoted cookie can encode (``"…\\000…"``): looking
    such a key up would be a 500, so it counts as no session.
    """
    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return key is not None and "\x00" not in key


def _is_staff(request: HttpRequest) -> bool:
    if not has_session_cookie(request):
        return False  # sessions are the only way to a Django user here
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def _bearer_token(request: HttpRequest) -> str | None:
    """The bearer token of the request, ``None`` without an Authorization header.

    :raises AuthenticationError: for a header that is not ``Bearer <token>``.
    """
    header = request.headers.get("Authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != BEARER or not token.strip():
        raise AuthenticationError(401, "malformed Authorization header: expected 'Bearer <token>'")
    return token.strip()


class OptionalWebinAuth(HttpBearer):
    """Public endpoints: anonymous without a token, the Webin owner with a valid one.

    A token that is sent but invalid or expired is a 401 (not a silent anonymous request).
    Django staff (admin session) are admins.
    """

    def __call__(self, request: HttpRequest) -> Caller | None:
        token = _bearer_token(request)
        if token is None:
            return self.without_token(request)
        return self.authenticate(request, token)

    def without_token(self, request: HttpRequest) -> Caller | None:
        return Caller(is_admin=_is_staff(request))

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        try:
            claims = decode_token(token)
        except InvalidToken as exc:
            raise AuthenticationError(401, str(exc)) from exc
        return Caller(webin_id=claims["sub"], is_admin=_is_staff(request))


class WebinAuth(OptionalWebinAuth):
    """Endpoints of a Webin account's own data: a valid token is required."""

    def without_token(self, request: HttpRequest) -> Caller | None:
        return None


def caller_of(request: HttpRequest) -> Caller:
    """The caller a request was authenticated as (anonymous when no auth ran)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Caller) else ANONYMOUS
