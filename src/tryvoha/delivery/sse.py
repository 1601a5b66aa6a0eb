"""
Server-Sent Events frames (the `text/event-stream` format of the HTML standard), as bytes.

Pure functions: the stream endpoint and the fan-out hub write what these return.
"""

from __future__ import annotations

from typing import Any

import orjson

RETRY = b"retry: 2000\n\n"
"""Sent first: how long (ms) a browser waits before it reconnects with `Last-Event-ID`."""

PING = b": ping\n\n"
"""A comment line: keeps proxies and clients from timing out an idle stream."""


def sse_frame(event_dict: dict[str, Any], seq: int, kind: str) -> bytes:
    """
    One event as a frame: `id: <seq>`, `event: <kind>`, `data: <one-line JSON>`.
    """
    return sse_frame_from_json(orjson.dumps(event_dict), seq, kind)


def sse_frame_from_json(data: bytes, seq: int, kind: str) -> bytes:
    """
    Like `sse_frame`, for an event already serialised (orjson never emits a raw newline).
    """
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (seq, kind.encode(), data)


def snapshot_frame(last_seq: int, alerts: list[dict[str, Any]]) -> bytes:
    """
    The active alerts as of *last_seq*; it has no `id:` so a browser keeps its own cursor.
    """
    data = orjson.dumps({"last_seq": last_seq, "alerts": alerts})
    return b"event: snapshot\ndata: %s\n\n" % data


def parse_frames(text: str) -> list[dict[str, str]]:
    """
    Split a stream into its frames as field dicts (comments dropped, `data` lines joined).

    For clients and tests; it assumes *text* ends on a frame boundary.
    """
    frames: list[dict[str, str]] = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields[name] = f"{fields[name]}\n{value}" if name in fields else value
        if fields:
            frames.append(fields)
    return frames


CHUNK = "tryvoha.chunk"
"""
Key of an ASGI body message's HTTP/1.1 chunk (`chunked(body)`), made once per event for all
the connections a writer past `send` serves (`api.sse_writer`); servers ignore the key.
"""


def chunked(body: bytes) -> bytes:
    """
    *body* as one chunk of a `Transfer-Encoding: chunked` response. Never for an empty
    body: an empty chunk ends the response.
    """
    return b"%x\r\n%s\r\n" % (len(body), body)
