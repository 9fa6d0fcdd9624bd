from __future__ import annotations

from switchman.agent.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    clock = Clock()
    b = CircuitBreaker(clock, base=0.5, cap=30.0, jitter=lambda: 1.0)
    delays = [b.failure() for _ in range(10)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(delays) == 30.0
    low = CircuitBreaker(clock, base=0.5, cap=30.0, jitter=lambda: 0.0)
    assert [low.failure() for _ in range(3)] == [0.25, 0.5, 1.0]  # "equal jitter": never below half


def test_open_breaker_refuses_until_delay_then_allows_one_trial() -> None:
    clock = Clock()
    b = CircuitBreaker(clock, jitter=lambda: 1.0)
    b.failure()
    assert b.state is BreakerState.OPEN and not b.allow()
    assert b.remaining() == 0.5
    clock.now = 0.5
    assert b.state is BreakerState.HALF_OPEN and b.allow()
    b.success()
    assert b.state is BreakerState.CLOSED and b.failures == 0


def test_a_peer_that_comes_back_is_retried_within_the_jitter_window_not_the_grown_delay() -> None:
    clock = Clock()
    b = CircuitBreaker(clock, cap=30.0, jitter=lambda: 1.0)
    for _ in range(10):
        b.failure()
    assert b.remaining() == 30.0
    clock.now = 2.0
    assert b.retry_soon(within=0.5) == 0.5  # jitter 1.0: the end of the window
    clock.now = 2.5
    assert b.allow()
    assert b.failure() == 30.0, "a failed trial backs off as before: the count was kept"
    assert b.retry_soon(within=50.0) == 30.0, "never later than the backoff would have allowed"
