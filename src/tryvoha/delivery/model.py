"""
Webhook subscriptions, their delivery state and dead letters, as frozen values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from tryvoha.core.model import AlertType, Event

DEFAULT_FORMAT = "tryvoha"


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """
    Where a subscription stands in the event log.

    `cursor` is the newest seq it is done with; the next matching event after it is the one
    being delivered. `attempts` counts tries of that event (the `X-Tryvoha-Delivery-Attempt`
    header); `failures` counts consecutive failed tries across events and sets the backoff;
    `failing_since` is when that streak began.
    """

    cursor: int
    attempts: int = 0
    failures: int = 0
    failing_since: datetime | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def skipped_to(self, seq: int) -> DeliveryState:
        """Past events the subscription does not want; nothing was sent."""
        return replace(self, cursor=max(self.cursor, seq))

    def delivered(self, seq: int, now: datetime) -> DeliveryState:
        return DeliveryState(cursor=max(self.cursor, seq), last_attempt_at=now, last_success_at=now)

    def failed(self, error: str, now: datetime, retry_at: datetime) -> DeliveryState:
        """One more failed try of the same event; it is tried again at *retry_at*."""
        return replace(
            self,
            attempts=self.attempts + 1,
            failures=self.failures + 1,
            failing_since=self.failing_since or now,
            next_attempt_at=retry_at,
            last_error=error,
            last_attempt_at=now,
        )

    def gave_up(self, seq: int, error: str, now: datetime, retry_at: datetime) -> DeliveryState:
        """Events up to *seq* were dead-lettered; the next one is first tried at *retry_at*."""
        return replace(
            self,
            cursor=max(self.cursor, seq),
            attempts=0,
            failures=self.failures + 1,
            failing_since=self.failing_since or now,
            next_attempt_at=retry_at,
            last_error=error,
            last_attempt_at=now,
        )


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    owner: str
    """The name of the token that created it."""
    url: str
    secret: str
    regions: tuple[str, ...]
    types: tuple[AlertType, ...]
    body_format: str
    created_at: datetime
    state: DeliveryState
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event given up on after its retry budget, as it was last sent."""

    webhook_id: str
    seq: int
    attempts: int
    error: str
    dead_at: datetime
    event: Event


@dataclass(frozen=True, slots=True)
class Progress:
    """One subscription's new state and the dead letters that led to it, saved together."""

    webhook_id: str
    state: DeliveryState
    dead_letters: tuple[DeadLetter, ...] = ()
