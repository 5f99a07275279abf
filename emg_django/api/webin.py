"""Checking Webin credentials against ENA's Webin authentication endpoint."""

from __future__ import annotations

import logging

import httpx

from emg_django.config import get_config

logger = logging.getLogger(__name__)

#: Webin's answers to credentials it does not accept.
REJECTED_STATUSES = frozenset({400, 401, 403})
AUTH_REALMS = ["ENA"]


class WebinUnavailable(Exception):
    """Webin could not be asked or gave no usable answer; the message says what happened."""


def check_credentials(username: str, password: str) -> bool:
    """Whether Webin accepts ``username`` and ``password``.

    :raises WebinUnavailable: when Webin is unreachable, times out or fails (5xx, odd statuses).
    """
    config = get_config().webin
    payload = {"authRealms": AUTH_REALMS, "username": username, "password": password}
    try:
        response = httpx.post(str(config.auth_url), json=payload, timeout=config.timeout_seconds)
    except httpx.TimeoutException as exc:
        raise WebinUnavailable("Webin did not answer in time") from exc
    except httpx.HTTPError as exc:
        logger.warning("Webin unreachable at %s: %s", config.auth_url, exc)
        raise WebinUnavailable("Webin cannot be reached") from exc
    if response.status_code == httpx.codes.OK:
        return True
    if response.status_code in REJECTED_STATUSES:
        return False
    logger.warning("Webin answered HTTP %s", response.status_code)
    raise WebinUnavailable(f"Webin answered HTTP {response.status_code}")
