"""
Token buckets: a burst, a steady refill, and bounded memory.
"""

from __future__ import annotations

import pytest

from tryvoha.compat.ratelimit import Rate, RateLimiter


def test_burst_then_refill() -> None:
    limiter = RateLimiter(Rate(per_minute=60, burst=3))
    assert [limiter.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("a", 0.0) == 1
    assert not limiter.allow("a", 0.5)
    assert limiter.allow("a", 1.6)
    assert not limiter.allow("a", 1.6)


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter(Rate(per_minute=1, burst=1))
    assert limiter.allow("a", 0.0)
    assert not limiter.allow("a", 0.0)
    assert limiter.allow("b", 0.0)
    assert limiter.retry_after("a", 0.0) == 60


def test_refill_never_exceeds_the_burst() -> None:
    limiter = RateLimiter(Rate(per_minute=60, burst=2))
    limiter.allow("a", 0.0)
    assert [limiter.allow("a", 1000.0) for _ in range(3)] == [True, True, False]


def test_idle_keys_are_forgotten_when_memory_is_full() -> None:
    limiter = RateLimiter(Rate(per_minute=60, burst=1), max_keys=10)
    for n in range(10):
        limiter.allow(f"old{n}", 0.0)
    assert len(limiter) == 10
    limiter.allow("new", 100.0)
    assert len(limiter) == 1


def test_busy_keys_are_halved_rather_than_grown_without_bound() -> None:
    limiter = RateLimiter(Rate(per_minute=1, burst=1), max_keys=10)
    for n in range(50):
        limiter.allow(f"k{n}", float(n))
        assert len(limiter) <= 10


@pytest.mark.parametrize(("per_minute", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_a_rate_must_let_something_through(per_minute: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate"):
        Rate(per_minute=per_minute, burst=burst)
