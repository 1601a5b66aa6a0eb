"""
HTTP answers of the compatible APIs, as plain values: status, headers and body bytes.

Errors are `{"message": ...}` as alerts.in.ua sends them; the ukrainealarm clients only
look at the status. An answer encodes its ASGI headers once, so one cached for a log
version is sent to every poller without further work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    raw_headers: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False, compare=False)
    """The headers as an ASGI `http.response.start` carries them, as `Response` would."""
    wire_tail: bytes = field(init=False, repr=False, compare=False)
    """The HTTP/1.1 message after the status line and the server's own headers."""

    def __post_init__(self) -> None:
        raw = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in self.headers
        ]
        if self.status != 304:
            raw.append((b"content-length", str(len(self.body)).encode("latin-1")))
        if self.body:
            raw.append((b"content-type", JSON.encode("latin-1")))
        object.__setattr__(self, "raw_headers", tuple(raw))
        lines = b"".join(name + b": " + value + b"\r\n" for name, value in raw)
        object.__setattr__(self, "wire_tail", lines + b"\r\n" + self.body)

    def to_response(self) -> Response:
        media_type = JSON if self.body else None
        return Response(self.body, self.status, dict(self.headers), media_type=media_type)


def error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, orjson.dumps({"message": message}), headers)


def unauthorized(message: str) -> Answer:
    return error(401, message, (("WWW-Authenticate", "Bearer"),))


def rate_limited(message: str, retry_after: int) -> Answer:
    return error(429, message, (("Retry-After", str(retry_after)),))


def json_answer(data: Any) -> Answer:
    return Answer(200, orjson.dumps(data), (("Cache-Control", "no-cache"),))


NOT_MODIFIED_SCHEMA: dict[str, Any] = {"description": "Not modified since `If-Modified-Since`"}


def ok_schema(schema: dict[str, Any], description: str) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI `responses=` entry for a 200 JSON answer."""
    return {200: {"description": description, "content": {JSON: {"schema": schema}}}}


def error_schema(description: str) -> dict[str, Any]:
    """An OpenAPI `responses=` entry for a `{"message": ...}` error."""
    return {
        "description": description,
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "properties": {"message": {"type": "string"}},
                    "required": ["message"],
                }
            }
        },
    }
