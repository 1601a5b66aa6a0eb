"""
When to try a failing webhook again, and when to give an event up.

Backoff is exponential with full jitter: after the n-th consecutive failure the next try
comes after a random delay between 0 and min(cap, base * 2^(n-1)) seconds, so receivers
that fail together are not retried together.

An event is retried until 24 hours (the budget) after the later of its commit and the
start of its subscription's failure streak; a failure after that dead-letters it. Events
queued behind it whose budget has run out too are dead-lettered with it, so a receiver that
was down for days resumes with the events of its last day, not with the oldest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_seconds: float = 1.0
    cap_seconds: float = 600.0
    budget: timedelta = timedelta(hours=24)

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after *failures* consecutive failed tries (at least one)."""
        exponent = min(max(failures, 1) - 1, 62)
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0**exponent)
        return rng.uniform(0.0, ceiling)

    def deadline(self, event_at: datetime, failing_since: datetime) -> datetime:
        """The last moment an event may still be retried."""
        return max(event_at, failing_since) + self.budget

    def expired(self, event_at: datetime, failing_since: datetime, now: datetime) -> bool:
        return now >= self.deadline(event_at, failing_since)
