"""Webin login against a (fake) Webin, the tokens it issues, their expiry and refresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import jwt
import pytest

from emg_django.api.security import JWT_ALGORITHM, REFRESH_LIFETIME, issue_token
from emg_django.config import get_config
from tests.emg_django.api.conftest import OWNER, World, bearer, url
from tests.fakes.ena.server import FakeENA
from tests.support import free_port

PASSWORD = "correct horse battery staple"


@pytest.fixture
def webin(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeENA]:
    """A fake Webin with the ``OWNER`` account, configured as the API's Webin."""
    with FakeENA() as fake:
        fake.add_webin_account(OWNER, PASSWORD)
        monkeypatch.setattr(get_config().webin, "auth_url", fake.webin_auth_url)
        yield fake


def _login(client, username: str = OWNER, password: str = PASSWORD, path: str = "auth/login"):
    return client.post(
        url(path), {"username": username, "password": password}, content_type="application/json"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["auth/login", "auth/sliding"])
def test_login_returns_a_token_that_opens_private_data(
    client, world: World, webin: FakeENA, path: str
) -> None:
    response = _login(client, path=path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "token_type", "webin_id", "expires_at", "refresh_expires_at"}
    assert body["token_type"] == "sliding" and body["webin_id"] == OWNER
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == OWNER and claims["iss"] == "mgnify-api"
    assert claims["exp"] - claims["iat"] == get_config().api.jwt_ttl_minutes * 60
    headers = {"Authorization": f"Bearer {body['token']}"}
    mine = client.get(url("my-data/studies/"), headers=headers).json()
    assert [item["accession"] for item in mine["items"]] == [world.private.study.accession]
    assert (
        client.get(url(f"studies/{world.private.study.accession}"), headers=headers).status_code
        == 200
    )
    assert [request.path for request in webin.requests][-1].endswith("/webin/auth/token")


def test_wrong_password_is_401(client, webin: FakeENA) -> None:
    response = _login(client, password="wrong")
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid Webin credentials"}
    assert _login(client, username="Webin-404").status_code == 401


def test_webin_failures_are_503(client, webin: FakeENA, monkeypatch: pytest.MonkeyPatch) -> None:
    webin.fault("http_503", times=1)
    response = _login(client)
    assert response.status_code == 503
    assert (
        response.json()["detail"] == "cannot check Webin credentials now: Webin answered HTTP 503"
    )
    webin.fault("http_500", times=1)
    assert _login(client).status_code == 503
    monkeypatch.setattr(get_config().webin, "timeout_seconds", 0.2)
    webin.fault("slow", times=1, delay=1.0)
    response = _login(client)
    assert response.status_code == 503
    assert "did not answer in time" in response.json()["detail"]
    assert _login(client).status_code == 200


def test_unreachable_webin_is_503(client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_config().webin, "auth_url", f"http://127.0.0.1:{free_port()}/auth")
    response = _login(client)
    assert response.status_code == 503
    assert response.json() == {
        "detail": "cannot check Webin credentials now: Webin cannot be reached"
    }


def test_login_body_is_validated(client) -> None:
    response = client.post(url("auth/login"), {"username": OWNER}, content_type="application/json")
    assert response.status_code == 422
    assert "password" in response.json()["detail"]


@pytest.mark.django_db
def test_expired_token_is_401_with_a_message(client, world: World) -> None:
    old = issue_token(OWNER, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).token
    response = client.get(url("studies/"), headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401
    assert response.json() == {"detail": "token has expired"}
    assert (
        client.get(url("my-data/studies/"), headers={"Authorization": f"Bearer {old}"}).status_code
        == 401
    )


@pytest.mark.django_db
def test_forged_tokens_are_401(client, world: World) -> None:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": OWNER,
        "iss": "mgnify-api",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 600,
    }
    forged = jwt.encode(
        claims, "not-the-secret-not-the-secret-not-the-secret", algorithm=JWT_ALGORITHM
    )
    unsigned = jwt.encode(claims, None, algorithm="none")
    other_issuer = jwt.encode(
        {**claims, "iss": "elsewhere"},
        get_config().api.jwt_secret.get_secret_value(),
        algorithm=JWT_ALGORITHM,
    )
    for token in (forged, unsigned, other_issuer, "not.a.jwt"):
        response = client.get(
            url(f"studies/{world.private.study.accession}"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401, token
        assert response.json()["detail"].startswith("invalid token")


def test_verify(client) -> None:
    token = issue_token(OWNER).token
    response = client.post(url("auth/verify"), {"token": token}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["webin_id"] == OWNER
    expired = issue_token(OWNER, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).token
    response = client.post(url("auth/verify"), {"token": expired}, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "token has expired"}


def test_refresh_within_and_past_the_refresh_window(client) -> None:
    ttl = dt.timedelta(minutes=get_config().api.jwt_ttl_minutes)
    expired_but_refreshable = issue_token(
        OWNER, now=dt.datetime.now(dt.UTC) - ttl - dt.timedelta(minutes=1)
    )
    response = client.post(
        url("auth/sliding/refresh"),
        {"token": expired_but_refreshable.token},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    fresh = response.json()["token"]
    assert (
        client.post(
            url("auth/verify"), {"token": fresh}, content_type="application/json"
        ).status_code
        == 200
    )
    too_old = issue_token(
        OWNER, now=dt.datetime.now(dt.UTC) - max(ttl, REFRESH_LIFETIME) - dt.timedelta(hours=1)
    )
    response = client.post(
        url("auth/sliding/refresh"), {"token": too_old.token}, content_type="application/json"
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "token can no longer be refreshed: log in again"}


@pytest.mark.django_db
def test_staff_session_is_admin_and_a_token_is_not_needed(admin_client, world: World) -> None:
    assert admin_client.get(url(f"runs/{world.private.runs[0].accession}")).status_code == 200
    assert admin_client.get(url("studies/"), headers=bearer("Webin-1")).json()["count"] == 4
