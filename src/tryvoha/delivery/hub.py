"""
`Hub`: the one fan-out of committed events to this process's live-stream connections.

It reads the bus through a single subscription and keeps the last seq it delivered; when the
bus skips seqs it reads the missing events from the log first, so every connection sees one
gap-free sequence. Each event is serialised once per connection kind and the same bytes go to
every connection that wants it.

A connection joins without a gap or a duplicate at the seam between the log and the live
events: it is attached first (the hub buffers its events), then the backlog is read up to the
hub's position and sent, then the buffer is sent minus what the backlog already held.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from tryvoha.bus.base import Subscription
from tryvoha.config import Settings
from tryvoha.core.codec import alert_to_dict, event_to_dict
from tryvoha.core.errors import TryvohaError
from tryvoha.core.model import AlertType, Event
from tryvoha.delivery.sse import CHUNK, chunked, sse_frame_from_json
from tryvoha.delivery.subscriber import (
    EVERYTHING,
    Encoded,
    EndReason,
    Message,
    StreamFilter,
    Subscriber,
)
from tryvoha.service import AlertService
from tryvoha.tasks import stop_tasks

log = logging.getLogger(__name__)

READ_PAGE = 1000
RECENT_EVENTS = 4096
"""Encoded events kept for reconnecting clients, so a reconnect storm reads no log."""


class CursorAhead(TryvohaError):
    """A resume point past the newest event: it would silently skip future events."""


HEARTBEAT_S = 15.0
BUFFER_EVENTS = 4096


@dataclass(frozen=True, slots=True)
class StreamOptions:
    heartbeat_s: float = HEARTBEAT_S
    buffer_events: int = BUFFER_EVENTS
    """Events a connection may have waiting before it counts as a slow consumer."""

    @classmethod
    def from_settings(cls, settings: Settings) -> StreamOptions:
        return cls(
            heartbeat_s=settings.stream_heartbeat_s, buffer_events=settings.stream_buffer_events
        )


@dataclass(frozen=True, slots=True)
class HubObserver:
    """Callbacks for metrics; each is optional."""

    delivered: Callable[[float, float], None] | None = None
    """(seconds from the event's time to the last write, seconds the fan-out took)."""
    ended: Callable[[Subscriber], None] | None = None


def encode(event: Event) -> Encoded:
    data = orjson.dumps(event_to_dict(event))
    kind = event.kind.value
    frame = sse_frame_from_json(data, event.seq, kind)
    sse: Message = {
        "type": "http.response.body",
        "body": frame,
        "more_body": True,
        CHUNK: chunked(frame),
    }
    ws: Message = {
        "type": "websocket.send",
        "text": (b'{"type":"event","event":' + data + b"}").decode(),
    }
    return Encoded(event.seq, event.region_id, event.type, (sse, ws))


class Hub:
    def __init__(
        self,
        service: AlertService,
        options: StreamOptions | None = None,
        observer: HubObserver | None = None,
    ) -> None:
        self.service = service
        self.options = options or StreamOptions()
        self.observer = observer or HubObserver()
        self.last_seq = 0
        self.counts: dict[str, int] = {}
        self._subscribers: dict[Subscriber, None] = {}
        self._recent: deque[Encoded] = deque(maxlen=RECENT_EVENTS)
        self._subscription: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._snapshot: tuple[int, list[dict[str, Any]]] | None = None

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        # Subscribe before reading the position: whatever commits in between arrives twice
        # at worst, and duplicates are dropped by seq.
        self._subscription = self.service.bus.subscribe()
        self.last_seq = self.service.last_seq
        self._tasks = [
            asyncio.create_task(self._pump(self._subscription), name="tryvoha-hub"),
            asyncio.create_task(self._heartbeat(), name="tryvoha-hub-heartbeat"),
        ]

    async def stop(self) -> None:
        for subscriber in list(self._subscribers):
            subscriber.end(EndReason.SHUTDOWN)
        if self._subscription is not None:
            self._subscription.close()
        await stop_tasks(self._tasks)
        self._tasks = []

    # -- connections --------------------------------------------------------------------

    @property
    def connections(self) -> int:
        return len(self._subscribers)

    def check_after(self, after: int | None) -> int | None:
        newest = max(self.last_seq, self.service.last_seq)
        if after is not None and after > newest:
            raise CursorAhead(f"after={after} is past the newest event ({newest})")
        return after

    def attach(self, subscriber: Subscriber) -> int:
        """
        Start buffering events for *subscriber*; returns the hub's position, the seq after
        which live events will follow.
        """
        subscriber.pause()
        subscriber.on_end = self._ended
        self._subscribers[subscriber] = None
        self.counts[subscriber.kind] = self.counts.get(subscriber.kind, 0) + 1
        return self.last_seq

    def detach(self, subscriber: Subscriber) -> None:
        if subscriber in self._subscribers:
            del self._subscribers[subscriber]
            self.counts[subscriber.kind] -= 1

    def _ended(self, subscriber: Subscriber) -> None:
        self.detach(subscriber)
        if self.observer.ended is not None:
            self.observer.ended(subscriber)

    @property
    def buffered(self) -> int:
        return sum(s.buffered for s in self._subscribers)

    @property
    def deepest_buffer(self) -> int:
        return max((s.buffered for s in self._subscribers), default=0)

    async def open(
        self,
        subscriber: Subscriber,
        *,
        after: int | None = None,
        snapshot: bool = False,
        stream_filter: StreamFilter | None = None,
        announce: Callable[[int], Message] | None = None,
    ) -> int:
        """
        (Re)start *subscriber*'s stream and return the seq after which its events follow.

        With *after* it gets the events after that seq; else, with *snapshot*, the active
        alerts it wants and the events after the seq they reflect; else only new events.
        *announce* makes the message that goes first (it gets the starting seq).
        """
        await subscriber.acquire()
        if subscriber.closed:
            subscriber.release()
            return subscriber.last_seq
        subscriber.pause()
        if stream_filter is not None:
            subscriber.filter = stream_filter
        cursor = self.last_seq if after is None else after
        first_buffered = subscriber.first_buffered_seq()
        if after is None and first_buffered is not None:
            # Events that arrived since `attach()` are this subscriber's already.
            cursor = min(cursor, first_buffered - 1)
        messages: list[Message] = []
        if snapshot and after is None:
            cursor, alerts = self._active_alerts()
            wanted = subscriber.filter
            if wanted != EVERYTHING:
                alerts = [a for a in alerts if wanted.matches(a["region_id"], AlertType(a["type"]))]
            messages.append(subscriber.snapshot_message(cursor, alerts))
        if announce is not None:
            messages.insert(0, announce(cursor))
        try:
            await subscriber.send_now(messages)
            cursor = await self._replay(subscriber, cursor)
        except Exception:
            log.exception("live streams: could not replay events after %d", cursor)
            subscriber.end(EndReason.FAILED)
        except BaseException:
            subscriber.end(EndReason.GONE)
            subscriber.release()
            raise
        await subscriber.go_live(cursor)
        return cursor

    def _active_alerts(self) -> tuple[int, list[dict[str, Any]]]:
        """The active alerts as dicts and the seq they reflect; one build per seq."""
        active = self.service.active
        if self._snapshot is None or self._snapshot[0] != active.last_seq:
            self._snapshot = (active.last_seq, [alert_to_dict(a) for a in active])
        return self._snapshot

    async def _replay(self, subscriber: Subscriber, cursor: int) -> int:
        """Send the events after *cursor* up to where the subscriber's buffer takes over."""
        index = subscriber.kind_index
        wanted = subscriber.filter
        while not subscriber.closed:
            first_buffered = subscriber.first_buffered_seq()
            target = self.last_seq if first_buffered is None else first_buffered - 1
            if cursor >= target:
                break
            encoded = await self._events_between(cursor, target)
            if not encoded:
                raise RuntimeError(f"the log has no events after {cursor} up to {target}")
            cursor = encoded[-1].seq
            await subscriber.send_now(
                [e.messages[index] for e in encoded if wanted.matches(e.region_id, e.type)]
            )
        return cursor

    async def _events_between(self, after: int, upto: int) -> list[Encoded]:
        """At most one page of encoded events with after < seq <= upto, oldest first."""
        recent = self._recent
        if recent and recent[0].seq <= after + 1:
            start = after + 1 - recent[0].seq
            stop = min(len(recent), upto - recent[0].seq + 1, start + READ_PAGE)
            return [recent[i] for i in range(start, stop)]
        events = await self.service.read_events(after, min(READ_PAGE, upto - after))
        return [encode(e) for e in events if e.seq <= upto]

    # -- the fan-out --------------------------------------------------------------------

    async def _pump(self, subscription: Subscription) -> None:
        async for batch in subscription:
            try:
                await self._absorb(batch)
            except Exception:
                log.exception("live streams: could not deliver events after %d", self.last_seq)

    async def _absorb(self, batch: Sequence[Event]) -> None:
        for event in batch:
            if event.seq <= self.last_seq:
                continue
            if event.seq > self.last_seq + 1:
                await self._fill_gap(event.seq - 1)
            self._deliver(encode(event), event)

    async def _fill_gap(self, upto: int) -> None:
        while self.last_seq < upto:
            events = await self.service.read_events(
                self.last_seq, min(READ_PAGE, upto - self.last_seq)
            )
            if not events:
                raise RuntimeError(f"the log has no events after {self.last_seq} up to {upto}")
            for event in events:
                if self.last_seq < event.seq <= upto:
                    self._deliver(encode(event), event)

    def _deliver(self, encoded: Encoded, event: Event) -> None:
        started = time.perf_counter()
        self.last_seq = encoded.seq
        self._recent.append(encoded)
        region_id, alert_type, seq, messages = (
            encoded.region_id,
            encoded.type,
            encoded.seq,
            encoded.messages,
        )
        for subscriber in list(self._subscribers):
            wanted = subscriber.filter
            if (wanted.regions is None or region_id in wanted.regions) and (
                wanted.types is None or alert_type in wanted.types
            ):
                subscriber.offer(seq, messages[subscriber.kind_index])
        if self.observer.delivered is not None:
            finished = time.perf_counter()
            self.observer.delivered(
                max(0.0, time.time() - event.at.timestamp()), finished - started
            )

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.options.heartbeat_s)
            for subscriber in list(self._subscribers):
                subscriber.ping()
