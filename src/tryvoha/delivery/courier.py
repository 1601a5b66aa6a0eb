"""
`Courier`: delivers one subscription's events, in log order, one request at a time.

The loop: wait until the next try is due; find the first wanted event after the cursor;
send it; on a 2xx move the cursor past it, otherwise schedule a retry (or, past the retry
budget, dead-letter it and move on). The state lives in memory and is saved through the
dispatcher, which commits many couriers' progress together.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tryvoha.core.model import Event
from tryvoha.delivery.filters import EventFilter
from tryvoha.delivery.model import DeadLetter, DeliveryState, Progress, Webhook

if TYPE_CHECKING:
    from tryvoha.delivery.dispatcher import Dispatcher

log = logging.getLogger(__name__)

SCAN_BATCH = 500
MAX_EXPIRED_PER_STEP = 10_000


class Courier:
    def __init__(self, webhook: Webhook, event_filter: EventFilter, dispatcher: Dispatcher) -> None:
        self.webhook = webhook
        self.state = webhook.state
        self._filter = event_filter
        self._dispatcher = dispatcher

    async def run(self) -> None:
        feed = self._dispatcher.feed
        while True:
            await self._wait_until_due()
            found = await self._next_event()
            if found is None:
                await feed.wait_beyond(self.state.cursor)
                continue
            await self._attempt(*found)

    # -- finding the next event ------------------------------------------------------------

    def _body(self, event: Event) -> bytes | str | None:
        """
        The body to send; None when the subscription does not want *event*; the error
        message when its format failed to render it (a failed try, retried like any).
        """
        if not self._filter.matches(event):
            return None
        renderer = self._dispatcher.renderer(self.webhook.body_format)
        try:
            return renderer(event, self._dispatcher.regions)
        except Exception as exc:
            log.exception("webhook %s: rendering event %d failed", self.webhook.id, event.seq)
            return f"the {self.webhook.body_format!r} body failed: {exc}"

    async def _next_event(self) -> tuple[Event, bytes | str] | None:
        cursor = self.state.cursor
        while True:
            batch = await self._dispatcher.feed.read_after(cursor, SCAN_BATCH)
            if not batch:
                break
            for event in batch:
                body = self._body(event)
                if body is not None:
                    self._move(self.state.skipped_to(event.seq - 1))
                    return event, body
                cursor = event.seq
        self._move(self.state.skipped_to(cursor))
        return None

    async def _wait_until_due(self) -> None:
        timing = self._dispatcher.timing
        while self.state.next_attempt_at is not None:
            delay = (self.state.next_attempt_at - timing.clock()).total_seconds()
            if delay <= 0:
                return
            await timing.sleep(delay)

    # -- one try ---------------------------------------------------------------------------

    async def _attempt(self, event: Event, body: bytes | str) -> None:
        dispatcher = self._dispatcher
        attempt = self.state.attempts + 1
        if isinstance(body, str):
            error: str | None = body
        else:
            error = await dispatcher.sender.post(self.webhook, event, body, attempt)
        now = dispatcher.timing.clock()
        if error is None:
            dispatcher.metrics.deliveries.labels("delivered").inc()
            dispatcher.metrics.latency.observe(max((now - event.at).total_seconds(), 0.0))
            self._move(self.state.delivered(event.seq, now))
            return
        dispatcher.metrics.deliveries.labels("failed").inc()
        await self._after_failure(event, error, attempt, now)

    async def _after_failure(self, event: Event, error: str, attempt: int, now: datetime) -> None:
        dispatcher = self._dispatcher
        policy = dispatcher.options.retry
        state = self.state
        failing_since = state.failing_since or now
        retry_at = _after(now, policy.delay(state.failures + 1, dispatcher.timing.rng))
        if not policy.expired(event.at, failing_since, now):
            dispatcher.metrics.retries.inc()
            self._move(state.failed(error, now, retry_at))
            return
        letters = [DeadLetter(self.webhook.id, event.seq, attempt, error, now, event)]
        letters += await self._expired_after(event.seq, failing_since, now)
        log.warning(
            "webhook %s: gave up on %d event(s) from seq %d after %s: %s",
            self.webhook.id,
            len(letters),
            event.seq,
            policy.budget,
            error,
        )
        dispatcher.metrics.dead_letters.inc(len(letters))
        self._move(state.gave_up(letters[-1].seq, error, now, retry_at), tuple(letters))

    async def _expired_after(
        self, seq: int, failing_since: datetime, now: datetime
    ) -> list[DeadLetter]:
        """The wanted events queued after *seq* whose retry budget has run out as well."""
        policy = self._dispatcher.options.retry
        letters: list[DeadLetter] = []
        cursor = seq
        while len(letters) < MAX_EXPIRED_PER_STEP:
            batch = await self._dispatcher.feed.read_after(cursor, SCAN_BATCH)
            for event in batch:
                if not policy.expired(event.at, failing_since, now):
                    return letters
                if self._body(event) is not None:
                    error = f"expired in the queue after {policy.budget} of failures"
                    letters.append(DeadLetter(self.webhook.id, event.seq, 0, error, now, event))
                cursor = event.seq
            if not batch:
                break
        return letters

    def _move(self, state: DeliveryState, dead_letters: tuple[DeadLetter, ...] = ()) -> None:
        if state == self.state and not dead_letters:
            return
        self.state = state
        self._dispatcher.save(Progress(self.webhook.id, state, dead_letters))


def _after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
