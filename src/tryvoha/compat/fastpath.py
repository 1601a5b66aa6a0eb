"""
A pure-ASGI shortcut for the alerts.in.ua GETs that devices poll: active alerts and the
IoT strings.

They are answered from the per-version cache before the router, request objects and
dependency injection run; FastAPI's per-request cost would otherwise be most of the time
spent. The answers are the routes' own (`alerts_in_ua_answers`), so both ways agree.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from tryvoha.compat.alerts_in_ua_answers import Ask, bearer_key, polled_at, respond
from tryvoha.compat.runtime import CompatRuntime


def ask_of(headers: list[tuple[bytes, bytes]], query: bytes, client: str) -> Ask:
    """The request's key (`Authorization: Bearer` first, then `?token=`) and validator."""
    key: str | None = None
    if_modified_since: str | None = None
    for name, value in headers:
        if name == b"authorization":
            key = bearer_key(value.decode("latin-1"))
        elif name == b"if-modified-since":
            if_modified_since = value.decode("latin-1")
    if key is None and b"token=" in query:
        key = dict(parse_qsl(query.decode("latin-1"))).get("token") or None
    return Ask(key, if_modified_since, client)


class FastPathMiddleware:
    def __init__(self, app: ASGIApp, runtime: CompatRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        polled = None
        if scope["type"] == "http" and scope["method"] == "GET":
            polled = polled_at(scope["path"])
        if polled is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        ask = ask_of(scope["headers"], scope.get("query_string", b""), client[0] if client else "")
        answer = await respond(self.runtime, ask, polled)
        # A copy: the answer is shared by every poller, and middleware may edit headers.
        headers = list(answer.raw_headers)
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})
