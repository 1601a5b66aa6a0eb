"""
`NATSBus`: committed events through a NATS JetStream stream, so every node gets every node's.

Each event is one message on the stream's subject, its JSON from `tryvoha.core.codec`, with
`Nats-Msg-Id` set from its seq and time: a publish retried after a lost acknowledgement, or
a repair that republishes it, is stored once within the stream's duplicate window.

A node hands its own events to its local subscribers at once, then publishes them in the
background, in order, retrying until the server stores them; a broker outage never holds up
the writer. One ordered consumer per node (the client's flow-controlled, heartbeat-checked
push consumer, recreated from the last stream sequence seen after a reconnect or a gap)
brings in the other nodes' events, which go to the same local subscribers. Messages this
node published are recognised by their origin header and not delivered twice.

What the stream cannot bring (events committed just before the consumer started, or by a
node killed between its commit and its publish) the subscribers take from the log: they
skip seqs they have and fill gaps from the store (see `tryvoha.bus.base`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import nats
import orjson
from nats.js.api import DeliverPolicy, DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from tryvoha.bus.memory import MemoryBus, MemorySubscription
from tryvoha.core.codec import event_from_dict, event_to_dict, format_time
from tryvoha.core.model import Event

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
ORIGIN_HEADER = "Tryvoha-Origin"
START_ATTEMPTS = 2
PUBLISH_CHUNK = 256
PUBLISH_TIMEOUT_S = 5.0
MAX_BACKOFF_S = 5.0
MAX_UNPUBLISHED = 100_000
"""Events kept for a broker that is down; older ones are dropped (the log has them)."""


class BusError(Exception):
    pass


DEFAULT_STREAM = "TRYVOHA_EVENTS"
DEFAULT_SUBJECT = "tryvoha.events"
DEFAULT_MAX_AGE_S = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class NATSOptions:
    servers: tuple[str, ...]
    stream: str = DEFAULT_STREAM
    subject: str = DEFAULT_SUBJECT
    replicas: int = 1
    max_age_s: float = DEFAULT_MAX_AGE_S
    duplicate_window_s: float = 120.0
    heartbeat_s: float = 2.0

    @classmethod
    def from_url(cls, url: str) -> NATSOptions:
        """
        `nats://host:4222[,nats://other:4222][?stream=NAME&subject=SUBJECT&replicas=3&max_age=SECONDS]`
        """
        base, _, query = url.partition("?")
        servers = tuple(s.strip() for s in base.split(",") if s.strip())
        if not servers or not all(s.startswith(("nats://", "tls://")) for s in servers):
            raise BusError(f"not a NATS URL: {url!r} (nats://HOST:PORT)")
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        unknown = set(params) - {"stream", "subject", "replicas", "max_age"}
        if unknown:
            raise BusError(f"unknown NATS URL parameter(s): {', '.join(sorted(unknown))}")
        try:
            return cls(
                servers=servers,
                stream=params.get("stream", DEFAULT_STREAM),
                subject=params.get("subject", DEFAULT_SUBJECT),
                replicas=int(params.get("replicas", "1")),
                max_age_s=float(params.get("max_age", DEFAULT_MAX_AGE_S)),
            )
        except ValueError as exc:
            raise BusError(f"bad NATS URL parameter in {url!r}: {exc}") from None


def message_id(event: Event) -> str:
    # The time tells apart equal seqs of two logs (a database rebuilt under an old stream).
    return f"{event.seq}@{format_time(event.at)}"


class NATSBus:
    def __init__(self, options: NATSOptions) -> None:
        self.options = options
        self.origin = uuid.uuid4().hex
        self.published = 0
        self.publish_failures = 0
        self._local = MemoryBus()
        self._nc: Any = None
        self._js: Any = None
        self._consumer: Any = None
        self._unpublished: deque[Event] = deque()
        self._publish_wanted = asyncio.Event()
        self._drained = asyncio.Event()
        self._incoming: list[Event] = []
        self._arrived = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    def __repr__(self) -> str:
        return f"NATSBus({','.join(self.options.servers)!r}, stream={self.options.stream!r})"

    @property
    def unpublished(self) -> int:
        """Events committed here that the stream has not acknowledged yet."""
        return len(self._unpublished)

    @property
    def connected(self) -> bool:
        return self._nc is not None and bool(self._nc.is_connected)

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        try:
            self._nc = await nats.connect(
                servers=list(self.options.servers),
                name=f"tryvoha-{self.origin[:8]}",
                connect_timeout=2,
                reconnect_time_wait=0.5,
                # A few tries to start, so a node without a broker fails with a message...
                max_reconnect_attempts=START_ATTEMPTS,
                error_cb=self._on_error,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
            )
        except Exception as exc:
            raise BusError(f"cannot reach NATS at {','.join(self.options.servers)}: {exc}") from exc
        # ...but once running it never stops reconnecting.
        self._nc.options["max_reconnect_attempts"] = -1
        self._js = self._nc.jetstream()
        try:
            await self._ensure_stream()
            self._consumer = await self._js.subscribe(
                self.options.subject,
                stream=self.options.stream,
                cb=self._on_message,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.NEW,
                idle_heartbeat=self.options.heartbeat_s,
            )
        except Exception as exc:
            await self._nc.close()
            self._nc = None
            raise BusError(f"cannot use stream {self.options.stream!r}: {exc}") from exc
        self._tasks = [
            asyncio.create_task(self._publish_forever(), name="tryvoha-nats-publish"),
            asyncio.create_task(self._deliver_forever(), name="tryvoha-nats-deliver"),
        ]

    async def close(self) -> None:
        if self._nc is not None and self._unpublished and self.connected:
            # A clean stop hands over what it committed; the log keeps it either way.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wait_published(), PUBLISH_TIMEOUT_S)
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: a cancellation the client swallows must not hold up the shutdown.
            await asyncio.wait(self._tasks, timeout=1.0)
        self._tasks = []
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._consumer.unsubscribe()
            self._consumer = None
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None
        await self._local.close()

    async def _ensure_stream(self) -> None:
        options = self.options
        try:
            await self._js.stream_info(options.stream)
            return
        except NotFoundError:
            pass
        config = StreamConfig(
            name=options.stream,
            subjects=[options.subject],
            storage=StorageType.FILE,
            num_replicas=options.replicas,
            max_age=options.max_age_s,
            duplicate_window=options.duplicate_window_s,
            discard=DiscardPolicy.OLD,
        )
        with contextlib.suppress(Exception):
            # Another node may create it at the same moment; `stream_info` below decides.
            await self._js.add_stream(config)
        await self._js.stream_info(options.stream)

    # -- publishing ---------------------------------------------------------------------

    async def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        await self._local.publish(events)
        self._unpublished.extend(events)
        self._drained.clear()
        self._publish_wanted.set()

    async def _publish_forever(self) -> None:
        # The only task that takes from `_unpublished`, so a chunk in flight stays in place.
        # `_stop` is checked as well as cancellation: the client turns a cancellation
        # inside some of its calls into its own errors.
        backoff = 0.1
        while not self._stop.is_set():
            await self._publish_wanted.wait()
            self._publish_wanted.clear()
            while self._unpublished and not self._stop.is_set():
                self._drop_overflow()
                try:
                    await self._publish_chunk()
                    backoff = 0.1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if self._stop.is_set():
                        return
                    self.publish_failures += 1
                    log.warning("NATS: publishing failed (%s); retrying in %.1f s", exc, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    with contextlib.suppress(Exception):
                        await self._ensure_stream()

    def _drop_overflow(self) -> None:
        overflow = len(self._unpublished) - MAX_UNPUBLISHED
        if overflow > 0:
            log.warning(
                "NATS: dropped %d unpublished events; nodes read them from the log", overflow
            )
            for _ in range(overflow):
                self._unpublished.popleft()

    async def _publish_chunk(self) -> None:
        chunk = [self._unpublished[i] for i in range(min(PUBLISH_CHUNK, len(self._unpublished)))]
        acks = []
        for event in chunk:
            headers = {MSG_ID_HEADER: message_id(event), ORIGIN_HEADER: self.origin}
            payload = orjson.dumps(event_to_dict(event))
            acks.append(
                await self._js.publish_async(
                    self.options.subject, payload, headers=headers, wait_stall=PUBLISH_TIMEOUT_S
                )
            )
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                for ack in acks:
                    await ack
        finally:
            for ack in acks:
                ack.cancel()
        for _ in chunk:
            self._unpublished.popleft()
        self.published += len(chunk)
        if not self._unpublished:
            self._drained.set()

    async def wait_published(self) -> None:
        """Return once the stream has acknowledged every event published so far."""
        while self._unpublished:
            await self._drained.wait()

    # -- consuming ----------------------------------------------------------------------

    def subscribe(self) -> MemorySubscription:
        return self._local.subscribe()

    async def _on_message(self, msg: Any) -> None:
        headers = msg.headers or {}
        if headers.get(ORIGIN_HEADER) == self.origin:
            return
        try:
            event = event_from_dict(orjson.loads(msg.data))
        except Exception:
            log.exception("NATS: dropped a message that is not an event")
            return
        self._incoming.append(event)
        self._arrived.set()

    async def _deliver_forever(self) -> None:
        # Messages that arrive together (a group commit elsewhere) go out as one batch.
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            batch, self._incoming = self._incoming, []
            if batch:
                await self._local.publish(batch)

    # -- connection events --------------------------------------------------------------

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS: %s", exc)

    async def _on_disconnected(self) -> None:
        if not self._stop.is_set():
            log.warning("NATS: disconnected; reconnecting")

    async def _on_reconnected(self) -> None:
        log.warning("NATS: reconnected to %s", self._nc.connected_url if self._nc else "?")
        self._publish_wanted.set()
