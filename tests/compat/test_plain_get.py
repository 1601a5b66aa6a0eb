"""
`plain_get` reads a request before the HTTP parser does; whatever it accepts, the parser
must read the same way: one whole GET, the same target, the same headers.
"""

from __future__ import annotations

import httptools
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tryvoha.compat.protocol import plain_get

BY_OBLAST = b"/v1/iot/active_air_raid_alerts_by_oblast.json"
TARGETS = [BY_OBLAST, b"/v1/alerts/active.json?token=k", b"/a%20b", b"*", b"http://h/x",
           b"/\x80", b"/a b", b"/#f"]  # fmt: skip
VALUE_BYTES = b"ab \t\x80\xff:\x00\r\n\x7f"


class Parsed:
    """What httptools reports while reading one buffer."""

    def __init__(self) -> None:
        self.begun = 0
        self.completed = 0
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []

    def on_message_begin(self) -> None:
        self.begun += 1

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_message_complete(self) -> None:
        self.completed += 1


def header_lines() -> st.SearchStrategy[bytes]:
    names = st.sampled_from(
        [b"Host", b"Authorization", b"If-Modified-Since", b"X-Forwarded-For", b"Connection",
         b"Upgrade", b"Content-Length", b"Transfer-Encoding", b"X-Y", b"X Y", b"", b"X\x01",
         b"h\xc3\xa9"]
    )  # fmt: skip
    separators = st.sampled_from([b":", b": ", b":\t", b" :", b"::"])
    values = st.binary(max_size=12).map(
        lambda raw: bytes(VALUE_BYTES[byte % len(VALUE_BYTES)] for byte in raw)
    ) | st.sampled_from([b"Bearer tv_key", b"Sat, 01 Jan 2000 00:00:00 GMT", b"close", b"5"])
    endings = st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b" \r\n"])
    return st.tuples(names, separators, values, endings).map(b"".join)


requests = st.tuples(
    st.sampled_from([b"GET", b"GET", b"GET", b"get", b"POST", b"HEAD"]),
    st.sampled_from([b" ", b" ", b"  ", b"\t"]),
    st.sampled_from(TARGETS),
    st.sampled_from([b" HTTP/1.1", b" HTTP/1.1", b" HTTP/1.0", b" HTTP/1.1 ", b" HTTP/2"]),
    st.sampled_from([b"\r\n", b"\r\n", b"\n"]),
    st.lists(header_lines(), max_size=5).map(b"".join),
    st.sampled_from([b"\r\n", b"\r\n", b"\n", b""]),
    st.sampled_from([b"", b"", b"", b"GET / HTTP/1.1\r\n\r\n", b"abc", b"G"]),
).map(b"".join)


@given(requests)
@settings(max_examples=600, deadline=None)
@example(b"GET /a HTTP/1.1\r\nHost:  x \t \r\nAuthorization:Bearer k\r\n\r\n")
@example(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
def test_what_plain_get_accepts_the_parser_reads_the_same_way(data: bytes) -> None:
    ours = plain_get(data)
    if ours is None:
        return
    parsed = Parsed()
    parser = httptools.HttpRequestParser(parsed)
    parser.feed_data(data)  # raises if the parser would refuse what was accepted
    assert (parsed.begun, parsed.completed) == (1, 1)
    assert parser.get_method() == b"GET"
    assert parser.get_http_version() == "1.1"
    assert parser.should_keep_alive()
    assert not parser.should_upgrade()
    assert ours == (parsed.url, parsed.headers)


@pytest.mark.parametrize(
    "data",
    [
        b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
        b"GET /x?token=k HTTP/1.1\r\nAuthorization:\tBearer k \r\nX-Y: a:b\r\n\r\n",
    ],
)
def test_plain_gets_are_accepted(data: bytes) -> None:
    assert plain_get(data) is not None


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"GET /x HTTP/1.1\r\nHost: a\r\n", id="incomplete"),
        pytest.param(b"GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n", id="pipelined"),
        pytest.param(b"GET /x HTTP/1.0\r\n\r\n", id="http-1.0"),
        pytest.param(b"GET /x HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", id="connection"),
        pytest.param(b"GET /x HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", id="upgrade"),
        pytest.param(b"GET /x HTTP/1.1\r\nHost a\r\n\r\n", id="no-colon"),
        pytest.param(b"GET /x HTTP/1.1\r\n folded\r\n\r\n", id="obs-fold"),
        pytest.param(b"GET /x HTTP/1.1\nHost: a\n\n", id="bare-lf"),
        pytest.param(b"GET http://h/x HTTP/1.1\r\n\r\n", id="absolute-form"),
        pytest.param(b"HEAD /x HTTP/1.1\r\n\r\n", id="head"),
    ],
)
def test_everything_else_is_left_to_the_parser(data: bytes) -> None:
    assert plain_get(data) is None
