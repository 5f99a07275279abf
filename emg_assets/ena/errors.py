"""Errors of the ENA client. All carry the URL of the request that failed."""

from __future__ import annotations


class ENAError(RuntimeError):
    """Base of the ENA client's errors.

    :param message: what went wrong.
    :param url: the request's URL (with its query string).
    """

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class ENABadRequestError(ENAError):
    """ENA refused the request (400); the message quotes ENA's own ``message``."""

    def __init__(self, ena_message: str, url: str) -> None:
        super().__init__(f"ENA rejected the request ({ena_message!r}): {url}", url)
        self.ena_message = ena_message


class ENAAuthError(ENAError):
    """ENA refused the credentials (401/403), or none are configured for a private query."""


class ENAResponseError(ENAError):
    """ENA answered something the client cannot use (an unexpected status or body)."""


class ENAUnavailableError(ENAError):
    """ENA kept failing (5xx, 429, time-outs, broken connections) until the retries ran out.

    :param attempts: how many requests were made.
    :param last_error: a description of the last failure.
    """

    def __init__(self, url: str, attempts: int, last_error: str) -> None:
        super().__init__(
            f"ENA request failed after {attempts} attempt(s): {url} — last error: {last_error}",
            url,
        )
        self.attempts = attempts
        self.last_error = last_error
