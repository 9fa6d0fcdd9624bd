"""Exponential backoff with jitter behind a circuit breaker (SPEC 3.2).

Pure: the clock and the jitter source are passed in, so tests drive it
without sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls flow
    OPEN = "open"  # calls are refused until the backoff delay has passed
    HALF_OPEN = "half_open"  # one trial call is allowed


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; stays open for an
    exponentially growing delay (``base * 2**n`` capped at ``cap``, with
    "equal jitter": half fixed, half random) and then lets one trial through."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        threshold: int = 1,
        base: float = 0.5,
        cap: float = 30.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._clock = clock
        self._threshold = threshold
        self._base = base
        self._cap = cap
        self._jitter = jitter
        self.failures = 0
        self._opened_at = 0.0
        self.delay = 0.0
        self._state = BreakerState.CLOSED

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.delay:
            self._state = BreakerState.HALF_OPEN
        return self._state

    def allow(self) -> bool:
        return self.state is not BreakerState.OPEN

    def remaining(self) -> float:
        """Seconds until a trial call is allowed (0 when allowed now)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.delay - self._clock())

    def retry_soon(self, within: float) -> float:
        """The peer looks back (its port accepts again): allow the trial call
        after a jittered ``0..within`` seconds instead of the grown delay. The
        failure count is kept, so a trial that fails backs off as before.
        Returns the new delay remaining."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        soon = self._jitter() * within
        if soon < self.remaining():
            self.delay = self._clock() - self._opened_at + soon
        return self.remaining()

    def success(self) -> None:
        self.failures = 0
        self.delay = 0.0
        self._state = BreakerState.CLOSED

    def failure(self) -> float:
        """Record a failure; returns the delay before the next trial."""
        self.failures += 1
        if self.failures < self._threshold:
            return 0.0
        exp = min(self._cap, self._base * 2 ** (self.failures - self._threshold))
        self.delay = exp / 2 + self._jitter() * exp / 2
        self._opened_at = self._clock()
        self._state = BreakerState.OPEN
        return self.delay
