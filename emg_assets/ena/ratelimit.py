"""A thread-safe rate limiter shared by every ENA client of a process.

ENA publishes a limit of 50 requests per second and answers 429 above it. Dagster may build
several client resources in one process (one per run or step, threads of a multi-threaded
executor), so the limiter is shared per process and per ENA host rather than per client.
Separate processes (the multiprocess executor) each have their own: keep the configured rate at
or below 50 divided by the number of concurrent processes that talk to ENA.

Requests are spaced evenly (a token bucket of capacity ``burst``, one by default): with a burst
of N, N requests could leave back-to-back and, with the next second's share, exceed the limit
within one second, which is exactly what ENA counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Token bucket: at most ``rate`` acquisitions per second, ``burst`` at once.

    :param rate: acquisitions per second (> 0).
    :param burst: how many may go without waiting after an idle period (≥ 1).
    :param clock: monotonic clock (seconds); replaceable in tests.
    :param sleep: sleep function; replaceable in tests.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # The theoretical arrival time of the next request (GCRA): a request may go when
        # now >= _next_free - (burst - 1) * interval.
        self._next_free = clock()

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited.

        The slot is reserved under the lock and the sleep happens outside it, so waiting
        threads queue in order without holding each other up.
        """
        with self._lock:
            now = self._clock()
            earliest = self._next_free - (self.burst - 1) * self._interval
            start = max(now, earliest)
            self._next_free = max(self._next_free, now) + self._interval
            wait = start - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def defer(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` from now (e.g. ENA's ``Retry-After``)."""
        with self._lock:
            # Shift by the burst allowance too, so even a full bucket waits the whole time.
            resume = self._clock() + seconds + (self.burst - 1) * self._interval
            self._next_free = max(self._next_free, resume)


_registry: dict[tuple[str, float, int], RateLimiter] = {}
_registry_lock = threading.Lock()


def shared_rate_limiter(host: str, rate: float, burst: int = 1) -> RateLimiter:
    """The process-wide limiter for ``host`` at ``rate`` (created on first use).

    Clients configured with the same host and rate share one limiter, so their requests
    together stay within the rate.
    """
    key = (host, float(rate), burst)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(rate, burst)
        return limiter
