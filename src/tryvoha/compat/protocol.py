"""
uvicorn's httptools HTTP protocol, answering the polled alerts.in.ua GETs without an ASGI
task: from the bytes as they arrive when they hold exactly one plain GET, or else as soon
as the parser has read the headers.

For a 29-byte IoT string uvicorn's per-request machinery (a task, an event, a request
cycle, the middleware chain, even the parser's per-header callbacks) costs several times
the answer itself, which caps a Python server far below what an LED-map fleet polling
every few seconds can ask. Only plain keep-alive HTTP/1.1 GETs without a body, with no
earlier request on the connection still in flight and a key already known, take the
shortcut; everything else goes the normal way, where the same answers are given
(`alerts_in_ua_answers`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import httptools
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from tryvoha.api.routes.native import active_answer
from tryvoha.api.sse_writer import SSE_WRITER, SseWriter
from tryvoha.api.streams import STREAM_PATH
from tryvoha.compat.alerts_in_ua_answers import polled_at, respond_now
from tryvoha.compat.answers import Answer
from tryvoha.compat.fastpath import ask_of
from tryvoha.compat.runtime import CompatRuntime, compat_runtime

log = logging.getLogger(__name__)

NATIVE_ACTIVE = b"/api/alerts/active"
_COPY_LIMIT = 4096

_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding", b"expect"})
_PROXY_HEADERS = frozenset({b"x-forwarded-for", b"forwarded"})
"""
The client's address behind a proxy is only known after uvicorn's proxy-headers middleware;
it matters only in keyless mode, where requests without a key are limited by address.
"""
_CONNECTION_HEADERS = frozenset({b"connection", b"upgrade"})
"""Keep-alive is HTTP/1.1's default; a request that says anything about it goes the normal way."""

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_FIELD_VALUE = rb"[\t\x20-\x7e\x80-\xff]*"
_PLAIN_GET = re.compile(
    rb"GET (/[\x21-\x7e]*) HTTP/1\.1\r\n((?:" + _TOKEN + rb":" + _FIELD_VALUE + rb"\r\n)*)\r\n"
)
"""
Exactly one whole GET in origin form with well-formed header lines and nothing after it.
Anything else, including what this pattern is stricter about than the parser, is left to
the parser: a request is never answered differently here, only sooner.
"""


def compat_http_protocol(app: FastAPI) -> type[HttpToolsProtocol]:
    """
    The protocol class to serve *app* with: `uvicorn.run(app, http=compat_http_protocol(app))`.

    Its answers are counted in the app's request metrics like every other.
    """
    counter = app.state.metrics.http_requests
    # One child per status class, looked up once: `labels()` costs more than the count.
    by_class = {n: counter.labels("GET", f"{n}xx") for n in range(1, 6)}

    def count(status: int) -> None:
        by_class[status // 100].inc()

    return shortcut_protocol(compat_runtime(app), count, app)


def shortcut_protocol(
    runtime: CompatRuntime,
    on_answer: Callable[[int], None] | None = None,
    app: FastAPI | None = None,
) -> type[HttpToolsProtocol]:
    """
    A protocol class bound to *runtime*; *on_answer* is called with the status of each
    answer the shortcut gives.
    """

    class CompatHttpToolsProtocol(_ShortcutProtocol):
        pass

    CompatHttpToolsProtocol.runtime = runtime
    CompatHttpToolsProtocol.on_answer = staticmethod(on_answer or _ignore)
    CompatHttpToolsProtocol.tryvoha_app = app
    CompatHttpToolsProtocol.native_answers = {}
    return CompatHttpToolsProtocol


def _ignore(status: int) -> None:
    pass


def plain_get(data: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]] | None:
    """
    The target and headers (names in lower case, values without leading whitespace: what
    the parser gives) when *data* is exactly one plain keep-alive GET; otherwise None.
    """
    request = _PLAIN_GET.fullmatch(data)
    if request is None:
        return None
    headers = []
    # The pattern has checked every line: each holds a colon and ends with CRLF.
    for line in request.group(2).split(b"\r\n")[:-1]:
        name, _, value = line.partition(b":")
        name = name.lower()
        if name in _CONNECTION_HEADERS:
            return None
        headers.append((name, value.lstrip(b" \t")))
    return request.group(1), headers


class _ShortcutProtocol(HttpToolsProtocol):
    runtime: CompatRuntime
    on_answer: Callable[[int], None]
    tryvoha_app: FastAPI | None = None
    """Not `app`: uvicorn keeps its wrapped ASGI app under that name."""
    native_answers: dict[tuple[int, bytes], Answer]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answered = False
        self._mid_message = False
        self._defaults: tuple[list[tuple[bytes, bytes]], bytes] | None = None

    # -- from the bytes as they arrive ------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        # Between messages the parser holds nothing, so a whole request may bypass it.
        if not self._mid_message and data.startswith(b"GET "):
            answer = self._guarded(self._answer_plain_get, data)
            if answer is not None:
                self._unset_keepalive_if_required()
                self._send(answer)
                self.on_response_complete()
                return
        super().data_received(data)

    def _answer_plain_get(self, data: bytes) -> Answer | None:
        request = plain_get(data)
        if request is None or not self._may_answer_now():
            return None
        return self._answer(*request)

    # -- from the parser --------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._mid_message = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        answer = self._guarded(self._answer_parsed)
        if answer is None:
            super().on_headers_complete()
            self._offer_sse_writer()
            return
        self._send(answer)
        self._answered = True

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._mid_message = False
        if not self._answered:
            super().on_message_complete()
            return
        self._answered = False
        self.on_response_complete()

    def _offer_sse_writer(self) -> None:
        """Let a live stream write its events to this connection itself (`api.sse_writer`)."""
        scope = self.scope
        # Only a GET has a body to write (uvicorn writes none for HEAD).
        if scope.get("path") != STREAM_PATH or scope.get("method") != "GET" or self.cycle is None:
            return
        extensions = scope.get("extensions")
        if extensions is None:
            extensions = scope["extensions"] = {}
        # An ASGI extension is a dict.
        writer = SseWriter(self.cycle, self.flow, self.transport)
        extensions[SSE_WRITER] = {"write_now": writer.write_now}

    def _answer_parsed(self) -> Answer | None:
        if not self._may_answer_now():
            return None
        parser = self.parser
        if (
            parser.get_method() != b"GET"
            or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive()
            or parser.should_upgrade()
        ):
            return None
        return self._answer(self.url, self.headers)

    # -- both ways --------------------------------------------------------------------------

    def _guarded(self, find: Callable[..., Answer | None], *args: bytes) -> Answer | None:
        try:
            return find(*args)
        except Exception:
            log.exception("the shortcut failed; answering the normal way")
            return None

    def _may_answer_now(self) -> bool:
        """Whether an answer now keeps the connection's answers in order and bounded."""
        if self.pipeline or (self.cycle is not None and not self.cycle.response_complete):
            return False
        # A client that does not read its answers gets the normal way's backpressure.
        return not self.flow.write_paused

    def _answer(self, target: bytes, headers: list[tuple[bytes, bytes]]) -> Answer | None:
        """The answer to give at once, or None to go the normal way."""
        url = httptools.parse_url(target)
        if b"%" in url.path:
            return None
        keyless = self.runtime.keyless
        for name, _ in headers:
            if name in _BODY_HEADERS or (keyless and name in _PROXY_HEADERS):
                return None
        if url.path == NATIVE_ACTIVE and not url.query:
            return self._native_active(headers)
        polled = polled_at(url.path.decode("latin-1"))
        if polled is None:
            return None
        client = self.client[0] if self.client else ""
        return respond_now(self.runtime, ask_of(headers, url.query or b"", client), polled)

    def _send(self, answer: Answer) -> None:
        tail = answer.wire_tail
        if len(tail) > _COPY_LIMIT:
            # Two buffers: a large cached tail is handed over without being copied.
            self.transport.writelines((self._head(answer), tail))
        else:
            # One send for a small answer: a second buffer would cost a second syscall.
            self.transport.write(self._head(answer) + tail)
        try:
            self.on_answer(answer.status)
        except Exception:
            log.exception("counting a shortcut answer failed")

    def _native_active(self, headers: list[tuple[bytes, bytes]]) -> Answer | None:
        """The native active-alerts poll, when it needs no token check."""
        app = self.tryvoha_app
        if app is None or not app.state.settings.public_read:
            return None
        if_none_match = None
        for name, value in headers:
            if name == b"authorization":
                return None
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        status, body, answer_headers = active_answer(app, None, None, if_none_match)
        # The wire form of a 10 KB list is worth keeping while the log stands still.
        key = (status, answer_headers["ETag"].encode())
        answer = self.native_answers.get(key)
        if answer is None:
            if len(self.native_answers) > 16:
                self.native_answers.clear()
            answer = Answer(status, body, tuple(answer_headers.items()))
            self.native_answers[key] = answer
        return answer

    def _head(self, answer: Answer) -> bytes:
        defaults = self.server_state.default_headers
        # uvicorn replaces the list every second with a fresh `date`; encode it once per list.
        if self._defaults is None or self._defaults[0] is not defaults:
            encoded = b"".join(name + b": " + value + b"\r\n" for name, value in defaults)
            self._defaults = (defaults, encoded)
        return STATUS_LINE[answer.status] + self._defaults[1]
