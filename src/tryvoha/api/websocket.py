"""
`GET /api/ws`: the live stream over a WebSocket, with subscribe, unsubscribe and resume.

Server to client: `{"type": "event", "event": {...}}`, `{"type": "snapshot", ...}`,
`{"type": "subscribed", ...}`, `{"type": "error", "message": ...}`, `{"type": "ping"}`.
Client to server: `{"op": "subscribe" | "unsubscribe" | "resume", ...}`. A bad message gets an
error message and changes nothing; the connection stays open.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.websockets import WebSocket

from tryvoha.api.deps import ACCESS_TOKEN_PARAM, lookup_token
from tryvoha.api.errors import ApiError
from tryvoha.core.errors import TryvohaError
from tryvoha.core.model import AlertType
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.hub import Hub
from tryvoha.delivery.subscriber import (
    EndReason,
    Message,
    StreamFilter,
    Subscriber,
    region_set,
    type_set,
)

SLOW_CONSUMER = 4008
"""Close code for a connection whose buffer filled; the client resumes from its last seq."""

_CLOSE_CODES = {
    EndReason.SLOW: SLOW_CONSUMER,
    EndReason.SHUTDOWN: 1001,
    EndReason.FAILED: 1011,
}


def _text(data: dict[str, Any]) -> Message:
    return {"type": "websocket.send", "text": orjson.dumps(data).decode()}


_PING = _text({"type": "ping"})


class WsSubscriber(Subscriber):
    __slots__ = ()
    kind = "ws"
    kind_index = 1

    def ping_message(self) -> Message:
        return _PING

    def snapshot_message(self, last_seq: int, alerts: list[dict[str, Any]]) -> Message:
        return _text({"type": "snapshot", "last_seq": last_seq, "alerts": alerts})

    def end_message(self, reason: EndReason) -> Message | None:
        code = _CLOSE_CODES.get(reason)
        if code is None:
            return None
        return {"type": "websocket.close", "code": code, "reason": reason.value}


class ProtocolError(Exception):
    pass


def _names(request: dict[str, Any], field: str) -> list[str] | None:
    value = request.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProtocolError(f"{field}: expected a list of strings")
    return list(dict.fromkeys(value))


def _seq(request: dict[str, Any], field: str, required: bool = False) -> int | None:
    value = request.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError(f"{field}: expected a seq (an integer >= 0)")
    return value


def _flag(request: dict[str, Any], field: str) -> bool:
    value = request.get(field, False)
    if not isinstance(value, bool):
        raise ProtocolError(f"{field}: expected true or false")
    return value


class WsSession:
    """
    One WebSocket's subscription: requested regions and types (None: all, []: none).
    """

    def __init__(self, hub: Hub, registry: RegionRegistry, subscriber: WsSubscriber) -> None:
        self.hub = hub
        self.registry = registry
        self.subscriber = subscriber
        self.regions: list[str] | None = None
        self.types: list[str] | None = None

    def _announce(self, after: int) -> Message:
        return _text(
            {"type": "subscribed", "regions": self.regions, "types": self.types, "after": after}
        )

    async def _switch(
        self,
        regions: list[str] | None,
        types: list[str] | None,
        *,
        after: int | None = None,
        snapshot: bool = False,
    ) -> None:
        stream_filter = StreamFilter(
            None if regions is None else region_set(self.registry, regions),
            None if types is None else type_set(types),
        )
        self.hub.check_after(after)
        self.regions, self.types = regions, types
        await self.hub.open(
            self.subscriber,
            after=after,
            snapshot=snapshot,
            stream_filter=stream_filter,
            announce=self._announce,
        )

    async def start(self, params: QueryParams) -> None:
        """The initial subscription: the SSE query parameters, or everything live."""
        regions = [r.strip() for r in params.get("regions", "").split(",") if r.strip()]
        types = [t.strip() for t in params.get("types", "").split(",") if t.strip()]
        try:
            after = params.get("after")
            await self._switch(
                regions or None,
                types or None,
                after=None if after is None else self._parse_after(after),
                snapshot=params.get("snapshot", "false").lower() in ("1", "true", "yes"),
            )
        except (ProtocolError, TryvohaError) as exc:
            await self.error(str(exc))
            await self._switch([], None)

    @staticmethod
    def _parse_after(text: str) -> int:
        if not text.isdigit():
            raise ProtocolError(f"after: expected a seq, got {text!r}")
        return int(text)

    async def error(self, message: str) -> None:
        await self.subscriber.say([_text({"type": "error", "message": message})])

    async def handle(self, raw: str | bytes | None) -> None:
        try:
            try:
                request = orjson.loads(raw or b"")
            except orjson.JSONDecodeError:
                raise ProtocolError('not JSON: send an object with an "op"') from None
            if not isinstance(request, dict):
                raise ProtocolError('expected a JSON object with an "op"')
            op = request.get("op")
            if op == "subscribe":
                await self._switch(
                    _names(request, "regions") or None,
                    _names(request, "types") or None,
                    after=_seq(request, "after"),
                    snapshot=_flag(request, "snapshot"),
                )
            elif op == "unsubscribe":
                await self._unsubscribe(_names(request, "regions"), _names(request, "types"))
            elif op == "resume":
                await self._switch(self.regions, self.types, after=_seq(request, "after", True))
            else:
                raise ProtocolError(f"unknown op {op!r}: use subscribe, unsubscribe or resume")
        except (ProtocolError, TryvohaError) as exc:
            await self.error(exc.message if isinstance(exc, TryvohaError) else str(exc))

    async def _unsubscribe(self, regions: list[str] | None, types: list[str] | None) -> None:
        if regions is None and types is None:
            await self._switch([], self.types)
            return
        new_regions, new_types = self.regions, self.types
        if regions:
            if new_regions is None:
                raise ProtocolError(
                    "unsubscribe: this subscription is to all regions; "
                    "subscribe to the regions you want instead"
                )
            new_regions = [r for r in new_regions if r not in regions]
        if types:
            current = new_types if new_types is not None else [t.value for t in AlertType]
            new_types = [t for t in current if t not in types]
        await self._switch(new_regions, new_types)


async def _authorised(websocket: WebSocket) -> bool:
    """
    Reads are public unless `TRYVOHA_PUBLIC_READ=false`; a given token (a Bearer header,
    else `?access_token=`, since a browser cannot set headers on a WebSocket) must be valid.
    """
    header = websocket.headers.get("authorization")
    if header is None:
        token = websocket.query_params.get(ACCESS_TOKEN_PARAM, "")
        if not token:
            return bool(websocket.app.state.settings.public_read)
    else:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
    service = websocket.app.state.service
    try:
        await service.read(lookup_token, service, token.strip())
    except ApiError:
        return False
    return True


async def websocket_stream(websocket: WebSocket) -> None:
    """The live stream as JSON messages; see the module docstring and docs/streams.md."""
    hub: Hub | None = getattr(websocket.app.state, "hub", None)
    if hub is None:
        await websocket.close(code=1013, reason="live streams are not running")
        return
    if not await _authorised(websocket):
        await websocket.close(code=1008, reason="a valid Bearer token is required")
        return
    await websocket.accept()
    subscriber = WsSubscriber(websocket.send, StreamFilter(), hub.options.buffer_events)
    hub.attach(subscriber)
    session = WsSession(hub, websocket.app.state.registry, subscriber)
    try:
        await session.start(websocket.query_params)
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await session.handle(message.get("text") or message.get("bytes"))
    except asyncio.CancelledError:
        # A stopping server cancels what is still open after its grace period: say so.
        subscriber.end(EndReason.SHUTDOWN)
    finally:
        subscriber.end(EndReason.GONE)
