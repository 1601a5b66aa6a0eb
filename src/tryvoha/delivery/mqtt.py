"""
MQTT publishing (when `TRYVOHA_MQTT_URL` is set): every event, and each region's status as
a retained message, so a device that subscribes later (an LED map on
`tryvoha/oblasts/+/status`) learns the current state at once. Topics: `mqtt_topics.py`.

Every publish is QoS 1 and awaited, events one after another, so the broker holds them in
log order. On every (re)connect the publisher first sends the events it had not had
acknowledged (read back from the log), then the status of every region, retained, so a
restart or an outage leaves no stale retained state behind; between connects it sends the
statuses that changed. A lost connection is retried with exponential backoff and jitter.

After each batch of events the publisher records, retained on the broker itself, the newest
event the broker acknowledged (`<prefix>/server/events_sent`). A publisher that starts (a
restart, or a new leader in a cluster) resumes after that event, so events committed while
no node was publishing, or sent but not acknowledged before a crash, still reach the events
topic: late rather than never, in order, at least once (an event may come twice across a
crash; consumers skip seqs they have seen). It also resends every status, so the retained
state is right at once. With no record on the broker it starts from the newest event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiomqtt
from fastapi import FastAPI

from tryvoha.cluster import run_while_leading
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.feed import EventFeed
from tryvoha.delivery.metrics import MqttMetrics
from tryvoha.delivery.mqtt_topics import (
    RegionState,
    cursor_of,
    cursor_payload,
    cursor_topic,
    event_payload,
    events_topic,
    is_topic_safe,
    oblast_topic,
    region_states,
    region_topic,
    server_payload,
    server_topic,
    status_payload,
)
from tryvoha.delivery.options import MqttOptions
from tryvoha.service import AlertService
from tryvoha.tasks import stop_task, stop_tasks

log = logging.getLogger(__name__)

MAX_REPLAY = 10_000
"""Events sent again after an outage at most; older ones are left to the log and the API."""
STATUS_BATCH = 200
CURSOR_WAIT_SECONDS = 0.5
"""How long a starting publisher waits for the broker's retained record of what was sent."""
CURSOR_POLL_SECONDS = 0.01


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> Broker:
    """`mqtt://[user:password@]host[:port]`, or `mqtts://` for TLS; raises ValueError."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("mqtt", "mqtts", "tcp") or not parts.hostname:
        raise ValueError(f"MQTT URL {url!r}: use mqtt://host:port or mqtts://host:port")
    tls = scheme == "mqtts"
    return Broker(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def mqtt_client(broker: Broker, identifier: str, will: aiomqtt.Will | None) -> aiomqtt.Client:
    client = aiomqtt.Client(
        broker.host,
        broker.port,
        username=broker.username,
        password=broker.password,
        identifier=identifier,
        will=will,
        keepalive=30,
        timeout=10,
        max_inflight_messages=STATUS_BATCH,
        tls_context=ssl.create_default_context() if broker.tls else None,
    )
    # Status batches are that many publishes in flight on purpose; aiomqtt warns past 10.
    client.pending_calls_threshold = 2 * STATUS_BATCH + 10
    return client


class MqttPublisher:
    def __init__(
        self,
        *,
        options: MqttOptions,
        service: AlertService,
        registry: RegionRegistry,
        feed: EventFeed,
        metrics: MqttMetrics,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if options.url is None:
            raise ValueError("MQTT publishing needs a URL")
        self.options = options
        self._url = options.url
        self._broker = parse_broker_url(options.url)
        self._service = service
        self._registry = registry
        self._feed = feed
        self.metrics = metrics
        self._sleep = sleep
        self._rng = rng or random.SystemRandom()
        self._identifier = f"tryvoha-{secrets.token_hex(4)}"
        self._sent_seq = 0
        self._resumed = False
        self._published: dict[str, RegionState] = {}
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._regions = [r for r in registry if is_topic_safe(r.id)]
        self._oblasts = {r.id for r in self._regions if r.parent_id is None}
        skipped = len(registry) - len(self._regions)
        if skipped:
            log.warning("MQTT: %d region ids cannot be topic levels; not published", skipped)

    @property
    def sent_seq(self) -> int:
        """The newest event the broker has acknowledged."""
        return self._sent_seq

    @property
    def synced(self) -> bool:
        """Connected, with every region's status sent since connecting."""
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    async def start(self) -> None:
        # From now on unless the broker records an older event (`_resume`): the retained
        # statuses carry the state before.
        self._sent_seq = self._feed.last_seq
        self._task = asyncio.create_task(self._run(), name="tryvoha-mqtt")

    async def stop(self) -> None:
        if self._task is not None:
            # Room for the goodbye (`_say_offline`, at most 2 s) before asking again.
            await stop_task(self._task, ask_every=3.0)
            self._task = None

    # -- the connection ----------------------------------------------------------------------

    async def _run(self) -> None:
        prefix = self.options.topic_prefix
        # Brokers publish the will when the connection is lost without a goodbye.
        will = aiomqtt.Will(server_topic(prefix), server_payload(False), qos=1, retain=True)
        delay = self.options.reconnect_base_seconds
        while True:
            try:
                async with mqtt_client(self._broker, self._identifier, will) as client:
                    self.metrics.connects.inc()
                    self.metrics.connected.set(1)
                    log.info("MQTT: connected to %s", self._url)
                    try:
                        await self._serve(client)
                    except asyncio.CancelledError:
                        await self._say_offline(client)
                        raise
            except aiomqtt.MqttError as exc:
                self.metrics.connect_failures.inc()
                log.warning("MQTT %s: %s; reconnecting", self._url, exc)
            except Exception:
                # Whatever went wrong, the devices on the broker still need the state.
                self.metrics.connect_failures.inc()
                log.exception("MQTT %s: publishing failed; reconnecting", self._url)
            finally:
                was_synced = self._synced.is_set()
                self._synced.clear()
                self.metrics.connected.set(0)
            if was_synced:
                delay = self.options.reconnect_base_seconds
            await self._sleep(self._rng.uniform(delay / 2, delay))
            delay = min(self.options.reconnect_cap_seconds, delay * 2)

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        # A clean disconnect does not fire the will, so say it ourselves.
        topic = server_topic(self.options.topic_prefix)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                client.publish(topic, server_payload(False), qos=1, retain=True), 2.0
            )

    async def _serve(self, client: aiomqtt.Client) -> None:
        """Publish until the connection drops (raises `MqttError`)."""
        if not self._resumed:
            await self._resume(client)
        publishing = asyncio.create_task(self._publish(client))
        watch = asyncio.create_task(self._watch(client))
        try:
            done, _ = await asyncio.wait({publishing, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # The one that ended raises below, as the reason to reconnect.
            await stop_tasks(t for t in (publishing, watch) if not t.done())
        for task in done:
            if not task.cancelled():
                task.result()

    @staticmethod
    async def _watch(client: aiomqtt.Client) -> None:
        # The message iterator is where aiomqtt reports a dropped connection.
        async for _message in client.messages:
            pass
        raise aiomqtt.MqttError("the connection ended")

    async def _resume(self, client: aiomqtt.Client) -> None:
        """Go back to the newest event the broker acknowledged, if it is older than ours."""
        topic = cursor_topic(self.options.topic_prefix)
        await client.subscribe(topic, qos=1)
        stored = await self._stored_cursor(client, topic)
        await client.unsubscribe(topic)
        # Only ever back: a record ahead of this log (another log on the same prefix, or
        # events this node has yet to receive) would skip events, while going back only
        # repeats some.
        if stored is not None and stored < self._sent_seq:
            log.info("MQTT: resuming after event %d (was %d)", stored, self._sent_seq)
            self._sent_seq = stored
        self._resumed = True

    @staticmethod
    async def _stored_cursor(client: aiomqtt.Client, topic: str) -> int | None:
        """The retained record on *topic*, which follows the subscription at once if any."""
        # Waiting on the queue's length, not on the iterator: aiomqtt drops a message that
        # arrives just as a wait on its iterator is cancelled.
        deadline = asyncio.get_running_loop().time() + CURSOR_WAIT_SECONDS
        while not len(client.messages):
            if asyncio.get_running_loop().time() >= deadline:
                return None
            await asyncio.sleep(CURSOR_POLL_SECONDS)
        message = await anext(client.messages)
        return cursor_of(message.payload) if message.topic.matches(topic) else None

    # -- what is sent ------------------------------------------------------------------------

    async def _publish(self, client: aiomqtt.Client) -> None:
        prefix = self.options.topic_prefix
        await client.publish(server_topic(prefix), server_payload(True), qos=1, retain=True)
        await self._send_events(client)
        self._published.clear()
        await self._send_statuses(client)
        self._synced.set()
        while True:
            await self._feed.wait_beyond(self._sent_seq)
            await self._send_events(client)
            await self._send_statuses(client)

    async def _send_events(self, client: aiomqtt.Client) -> None:
        topic = events_topic(self.options.topic_prefix)
        newest = self._feed.last_seq
        if newest - self._sent_seq > MAX_REPLAY:
            missed = newest - self._sent_seq
            log.warning("MQTT: %d events missed; sending the last %d", missed, MAX_REPLAY)
            self._sent_seq = newest - MAX_REPLAY
        while True:
            events = await self._feed.read_after(self._sent_seq, 500)
            if not events:
                return
            for event in events:
                await client.publish(topic, event_payload(event), qos=1)
                self._sent_seq = event.seq
                self.metrics.publishes.labels("event").inc()
            await client.publish(
                cursor_topic(self.options.topic_prefix),
                cursor_payload(self._sent_seq),
                qos=1,
                retain=True,
            )

    async def _send_statuses(self, client: aiomqtt.Client) -> None:
        """Send the regions whose state differs from what the broker retains."""
        seq = self._service.last_seq
        states = region_states(self._registry, list(self._service.active))
        changed = [
            (region.id, states[region.id])
            for region in self._regions
            if self._published.get(region.id) != states[region.id]
        ]
        prefix = self.options.topic_prefix
        for start in range(0, len(changed), STATUS_BATCH):
            batch = changed[start : start + STATUS_BATCH]
            sends = []
            for region_id, state in batch:
                payload = status_payload(region_id, state, seq)
                topics = [region_topic(prefix, region_id)]
                if region_id in self._oblasts:
                    topics.append(oblast_topic(prefix, region_id))
                sends += [client.publish(t, payload, qos=1, retain=True) for t in topics]
            await asyncio.gather(*sends)
            self.metrics.publishes.labels("status").inc(len(sends))
            self._published.update(batch)


# -- wiring --------------------------------------------------------------------------------


class _Terms:
    """
    A publisher for each term in which this node leads the cluster: one node publishes, and
    each new leader starts with the full resync of a fresh connection.
    """

    def __init__(self, app: FastAPI, make: Callable[[], MqttPublisher]) -> None:
        self._app = app
        self._make = make
        self._lock = asyncio.Lock()
        self._closed = False

    async def begin(self) -> None:
        async with self._lock:
            if self._closed or self._app.state.mqtt is not None:
                return
            publisher = self._make()
            await publisher.start()
            self._app.state.mqtt = publisher

    async def end(self) -> None:
        async with self._lock:
            publisher: MqttPublisher | None = self._app.state.mqtt
            self._app.state.mqtt = None
            if publisher is not None:
                await publisher.stop()

    async def close(self) -> None:
        """End the term for good: the app stops before leadership hands the duty back."""
        self._closed = True
        await self.end()


def install(app: FastAPI) -> None:
    """Publish to MQTT while the app runs and leads the cluster, when `mqtt_url` is set."""
    options = MqttOptions.from_settings(app.state.settings)
    if options.url is None:
        return
    metrics = MqttMetrics(app.state.metrics.registry)
    app.state.mqtt = None
    app.state.mqtt_terms = None

    async def start(app: FastAPI) -> None:
        service: AlertService = app.state.service
        feed = EventFeed(service, window=1000)
        await feed.start()

        def publisher() -> MqttPublisher:
            return MqttPublisher(
                options=options,
                service=service,
                registry=app.state.registry,
                feed=feed,
                metrics=metrics,
            )

        terms = _Terms(app, publisher)
        app.state.mqtt_feed = feed
        app.state.mqtt_terms = terms
        await run_while_leading(app, terms.begin, terms.end)

    async def stop(app: FastAPI) -> None:
        terms: _Terms | None = app.state.mqtt_terms
        feed: EventFeed | None = getattr(app.state, "mqtt_feed", None)
        app.state.mqtt_terms = app.state.mqtt_feed = None
        if terms is not None:
            await terms.close()
        if feed is not None:
            await feed.stop()

    app.state.on_start.append(start)
    app.state.on_stop.append(stop)
