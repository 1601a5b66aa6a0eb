"""
Live streams: `GET /api/stream` (Server-Sent Events) and `GET /api/ws` (WebSocket).

Both carry every event once, in seq order, filtered by regions and types, and resume from a
seq without a gap or a duplicate (see `tryvoha.delivery.hub`). `docs/streams.md` is the
contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Request
from prometheus_client import Counter, Gauge, Histogram
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tryvoha.api.deps import ReaderDep
from tryvoha.api.errors import ApiError, error_responses
from tryvoha.api.sse_writer import SSE_WRITER
from tryvoha.api.websocket import websocket_stream
from tryvoha.delivery.hub import Hub, HubObserver, StreamOptions
from tryvoha.delivery.sse import CHUNK, PING, RETRY, chunked, snapshot_frame
from tryvoha.delivery.subscriber import (
    EndReason,
    Message,
    StreamFilter,
    Subscriber,
    make_filter,
)

router = APIRouter(tags=["streams"])

STREAM_PATH = "/api/stream"

_BODY = "http.response.body"
_PING: Message = {"type": _BODY, "body": PING, "more_body": True, CHUNK: chunked(PING)}
_SSE_HEADERS = (
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)


def split_ids(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def get_hub(app: Any) -> Hub:
    hub: Hub | None = getattr(app.state, "hub", None)
    if hub is None:
        raise ApiError(503, "unavailable", "live streams are not running", {"Retry-After": "1"})
    return hub


DIRECT_SEND = "tryvoha.direct_send"
"""Scope extension: the `send` of the outermost middleware, for a stream's event writes."""


class DirectSendMiddleware:
    """
    Hands the live streams the `send` from outside the app's other middleware.

    Added last (outermost), it lets a stream write its events past the layers that act only
    on a response's start or on buffered bodies: a few microseconds per connection, tens of
    milliseconds per event at 10,000 connections. The start of the response still goes
    through every layer; no layer may transform `text/event-stream` bodies.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STREAM_PATH:
            scope["extensions"] = {**(scope.get("extensions") or {}), DIRECT_SEND: send}
        await self.app(scope, receive, send)


class SseSubscriber(Subscriber):
    __slots__ = ()
    kind = "sse"
    kind_index = 0

    def ping_message(self) -> Message:
        return _PING

    def snapshot_message(self, last_seq: int, alerts: list[dict[str, Any]]) -> Message:
        return {"type": _BODY, "body": snapshot_frame(last_seq, alerts), "more_body": True}

    def end_message(self, reason: EndReason) -> Message:
        # A comment, so a person reading the stream sees why it ended.
        body = b": end: %s\n\n" % reason.value.encode()
        return {"type": _BODY, "body": body, "more_body": False}

    def coalesce(self, messages: list[Message]) -> list[Message]:
        if len(messages) < 2:
            return messages
        body = b"".join(m["body"] for m in messages)
        return [{"type": _BODY, "body": body, "more_body": True}]


class EventStream(Response):
    """
    The SSE response: headers and `retry:`, then the hub's events until either side ends.
    """

    media_type = "text/event-stream"

    def __init__(
        self, hub: Hub, stream_filter: StreamFilter, *, after: int | None, snapshot: bool
    ) -> None:
        # Not `Response.__init__`: it would declare a Content-Length for an empty body.
        self.status_code = 200
        self.background = None
        self.raw_headers = list(_SSE_HEADERS)
        self.hub = hub
        self.stream_filter = stream_filter
        self.after = after
        self.snapshot = snapshot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": _BODY, "body": RETRY, "more_body": True})
        extensions = scope.get("extensions") or {}
        direct = extensions.get(DIRECT_SEND, send)
        offered = extensions.get(SSE_WRITER)
        subscriber = SseSubscriber(
            direct,
            self.stream_filter,
            self.hub.options.buffer_events,
            offered["write_now"] if offered else None,
        )
        self.hub.attach(subscriber)
        try:
            await self.hub.open(subscriber, after=self.after, snapshot=self.snapshot)
            # The server answers `http.disconnect` once the client has gone or the response
            # is complete (the hub ended the stream).
            while (await receive())["type"] != "http.disconnect":
                pass
        except asyncio.CancelledError:
            # A stopping server cancels the streams still open after its grace period: end
            # this one properly (the client resumes elsewhere) rather than leave a
            # traceback per connection in the log.
            subscriber.end(EndReason.SHUTDOWN)
        finally:
            subscriber.end(EndReason.GONE)


_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "`retry:`, then `id:`/`event:`/`data:` frames and `: ping` comments",
    },
    **error_responses(401, 422, 503),
}


@router.get(STREAM_PATH, response_class=EventStream, status_code=200, responses=_STREAM_RESPONSES)
async def stream(
    request: Request,
    _reader: ReaderDep,
    after: Annotated[int | None, Query(ge=0, description="resume after this seq")] = None,
    regions: Annotated[
        str | None,
        Query(max_length=20_000, description="comma-separated region ids, with relatives"),
    ] = None,
    types: Annotated[
        str | None, Query(max_length=200, description="comma-separated alert types")
    ] = None,
    snapshot: Annotated[bool, Query(description="start with the active alerts")] = False,
    last_event_id: Annotated[
        str | None, Header(description="the last `id:` seen; wins over `after`")
    ] = None,
) -> Response:
    """
    Server-Sent Events: each event once with `id: <seq>`, as it happens. A region filter
    includes the regions' descendants and the ancestors whose alerts cover them. A browser
    that reconnects sends `Last-Event-ID` and gets exactly what it missed, then live events.
    """
    hub = get_hub(request.app)
    stream_filter = make_filter(request.app.state.registry, split_ids(regions), split_ids(types))
    if last_event_id is not None and last_event_id.strip():
        try:
            after = int(last_event_id)
        except ValueError:
            after = -1
        if after < 0:
            raise ApiError(422, "invalid_request", f"Last-Event-ID: not a seq: {last_event_id!r}")
    # A cursor means a resume (a browser reconnects to the same URL with Last-Event-ID):
    # what was missed follows exactly, so no snapshot.
    return EventStream(
        hub, stream_filter, after=hub.check_after(after), snapshot=snapshot and after is None
    )


# -- metrics --------------------------------------------------------------------------------


def install_metrics(app: FastAPI) -> HubObserver:
    """Register the stream metrics on the app's registry; returns the hub's callbacks."""
    registry = app.state.metrics.registry

    def from_hub(read: Callable[[Hub], float]) -> Callable[[], float]:
        def value() -> float:
            hub: Hub | None = getattr(app.state, "hub", None)
            return 0.0 if hub is None else float(read(hub))

        return value

    connections = Gauge(
        "tryvoha_stream_connections",
        "Open live-stream connections by kind",
        ["kind"],
        registry=registry,
    )

    def count_of(kind: str) -> Callable[[Hub], float]:
        return lambda hub: hub.counts.get(kind, 0)

    for kind in ("sse", "ws"):
        connections.labels(kind).set_function(from_hub(count_of(kind)))
    Gauge(
        "tryvoha_stream_buffered_events",
        "Events waiting in live-stream connection buffers, all connections",
        registry=registry,
    ).set_function(from_hub(lambda h: h.buffered))
    Gauge(
        "tryvoha_stream_buffer_max",
        "Events waiting in the fullest live-stream connection buffer",
        registry=registry,
    ).set_function(from_hub(lambda h: h.deepest_buffer))
    Gauge(
        "tryvoha_stream_last_seq",
        "The newest seq the live streams have delivered",
        registry=registry,
    ).set_function(from_hub(lambda h: h.last_seq))
    latency = Histogram(
        "tryvoha_stream_delivery_seconds",
        "From an event's time to its write on every live-stream connection that wants it",
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        registry=registry,
    )
    fanout = Histogram(
        "tryvoha_stream_fanout_seconds",
        "Time to hand one event to every live-stream connection that wants it",
        buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
        registry=registry,
    )
    ended = Counter(
        "tryvoha_stream_disconnects_total",
        "Live-stream connections the server ended, by kind and reason",
        ["kind", "reason"],
        registry=registry,
    )

    def on_delivered(latency_s: float, fanout_s: float) -> None:
        latency.observe(latency_s)
        fanout.observe(fanout_s)

    def on_ended(subscriber: Subscriber) -> None:
        if subscriber.end_reason is not None and subscriber.end_reason is not EndReason.GONE:
            ended.labels(subscriber.kind, subscriber.end_reason.name.lower()).inc()

    return HubObserver(delivered=on_delivered, ended=on_ended)


# -- wiring ---------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Add the stream routes, their metrics, and the hub's start and stop."""
    app.state.stream_options = StreamOptions.from_settings(app.state.settings)
    observer = install_metrics(app)
    app.include_router(router)
    app.add_api_websocket_route("/api/ws", websocket_stream)

    async def start_hub(app: Any) -> None:
        hub = Hub(app.state.service, app.state.stream_options, observer)
        await hub.start()
        app.state.hub = hub

    async def stop_hub(app: Any) -> None:
        hub: Hub | None = getattr(app.state, "hub", None)
        if hub is not None:
            await hub.stop()
            app.state.hub = None

    app.state.on_start.append(start_hub)
    app.state.on_stop.append(stop_hub)
