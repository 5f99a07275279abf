"""Login and token schemas."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from emg_django.api.schemas.base import OutputSchema

MAX_CREDENTIAL_LENGTH = 256


class WebinCredentials(Schema):
    """A Webin account's credentials."""

    username: str = Field(
        ..., min_length=1, max_length=MAX_CREDENTIAL_LENGTH, examples=["Webin-12345"]
    )
    password: str = Field(..., min_length=1, max_length=MAX_CREDENTIAL_LENGTH)


class TokenSchema(OutputSchema):
    """A signed token to send as ``Authorization: Bearer <token>``."""

    token: str
    token_type: str = Field("sliding", examples=["sliding"])
    webin_id: str
    expires_at: dt.datetime
    refresh_expires_at: dt.datetime


class TokenRequest(Schema):
    """A token to refresh or verify."""

    token: str = Field(..., min_length=1, max_length=4096)


class TokenVerified(OutputSchema):
    """A valid token's subject and expiry."""

    webin_id: str
    expires_at: dt.datetime
