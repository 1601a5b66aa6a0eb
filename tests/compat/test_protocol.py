"""
The HTTP protocol shortcut on a live server, over raw sockets: it answers only what it can
answer at once, in order, and leaves everything else to the normal way.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.compat.live import LiveServer, live_server
from tryvoha.api.sse_writer import SseWriter

pytestmark = pytest.mark.slow

BY_OBLAST = "/v1/iot/active_air_raid_alerts_by_oblast.json"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class Shortcut:
    def __init__(self) -> None:
        self.answers: list[int] = []

    def __call__(self, status: int) -> None:
        self.answers.append(status)


@pytest.fixture(scope="module")
def shortcut() -> Shortcut:
    return Shortcut()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shortcut: Shortcut) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("protocol"), shortcut=True, on_answer=shortcut
    ) as running:
        # Keys stay known for the whole module, so which way a request takes never
        # depends on how fast the machine is.
        running.runtime.keys.ttl = 3600
        running.raise_("16")
        yield running


def get(path: str, token: str, *extra: str, version: str = "1.1") -> bytes:
    lines = [f"GET {path} HTTP/{version}", "Host: 127.0.0.1", f"Authorization: Bearer {token}"]
    return ("\r\n".join([*lines, *extra]) + "\r\n\r\n").encode()


class Connection:
    """One keep-alive connection: send bytes, read that many replies."""

    def __init__(self, server: LiveServer) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.buffer = b""

    def exchange(self, data: bytes, replies: int) -> list[Reply]:
        self.sock.sendall(data)
        return [self._reply() for _ in range(replies)]

    def _reply(self) -> Reply:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += _receive(self.sock)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self.buffer += _receive(self.sock)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Reply(int(status_line.split()[1]), headers, body)

    def close(self) -> None:
        self.sock.close()


def exchange(server: LiveServer, data: bytes, replies: int) -> list[Reply]:
    connection = Connection(server)
    try:
        return connection.exchange(data, replies)
    finally:
        connection.close()


def _receive(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("the server closed the connection")
    return chunk


def test_a_known_key_is_answered_at_once_like_the_normal_way(
    server: LiveServer, shortcut: Shortcut
) -> None:
    token = server.token("known")
    before = len(shortcut.answers)
    connection = Connection(server)
    (normal,) = connection.exchange(get(BY_OBLAST, token), 1)
    assert shortcut.answers[before:] == []
    (direct,) = connection.exchange(get(BY_OBLAST, token), 1)
    connection.close()
    assert shortcut.answers[before:] == [200]
    assert normal.status == direct.status == 200
    assert normal.body == direct.body
    assert direct.body.startswith(b'"') and len(direct.body) == 29
    for name in ("date", "server", "last-modified", "content-type", "content-length"):
        assert direct.headers[name] == normal.headers[name] or name == "date", name


def test_304_through_the_shortcut(server: LiveServer, shortcut: Shortcut) -> None:
    token = server.token("validator")
    (first,) = exchange(server, get(BY_OBLAST, token), 1)
    stamp = first.headers["last-modified"]
    before = len(shortcut.answers)
    (again,) = exchange(server, get(BY_OBLAST, token, f"If-Modified-Since: {stamp}"), 1)
    assert again.status == 304
    assert again.body == b""
    assert again.headers["last-modified"] == stamp
    assert shortcut.answers[before:] == [304]


def test_a_request_arriving_in_pieces_is_answered_once_whole(
    server: LiveServer, shortcut: Shortcut
) -> None:
    token = server.token("pieces")
    exchange(server, get(BY_OBLAST, token), 1)
    data = get(BY_OBLAST, token)
    connection = Connection(server)
    before = len(shortcut.answers)
    connection.sock.sendall(data[:20])
    time.sleep(0.2)  # long enough for the first piece to be read on its own
    (split,) = connection.exchange(data[20:], 1)
    (whole,) = connection.exchange(data, 1)
    connection.close()
    assert split.status == whole.status == 200
    assert split.body == whole.body and len(whole.body) == 29
    assert shortcut.answers[before:] == [200, 200]


def test_a_second_read_that_looks_whole_still_continues_the_first(
    server: LiveServer, shortcut: Shortcut
) -> None:
    """What the parser holds from the first read decides what the second one means."""
    token = server.token("continued")
    exchange(server, get(BY_OBLAST, token), 1)
    connection = Connection(server)
    before = len(shortcut.answers)
    connection.sock.sendall(b"GET /nowhere HTTP/1.1\r\nX-Note: ")
    time.sleep(0.2)
    (reply,) = connection.exchange(get(BY_OBLAST, token), 1)
    connection.close()
    assert reply.status == 404
    assert shortcut.answers[before:] == []


@pytest.mark.parametrize(
    ("authorization", "status", "by_shortcut"),
    [
        pytest.param("AUTHORIZATION:\t  Bearer {t}", 200, [200], id="spaces-and-case"),
        pytest.param("Authorization Bearer {t}", 400, [], id="no-colon"),
    ],
)
def test_header_lines_are_read_as_the_parser_reads_them(
    server: LiveServer, shortcut: Shortcut, authorization: str, status: int, by_shortcut: list[int]
) -> None:
    token = server.token(f"raw-{status}")
    exchange(server, get(BY_OBLAST, token), 1)  # the key is known from here on
    before = len(shortcut.answers)
    header = authorization.replace("{t}", token)
    data = f"GET {BY_OBLAST} HTTP/1.1\r\nhost:x\r\n{header}\r\n\r\n"
    (reply,) = exchange(server, data.encode(), 1)
    assert reply.status == status
    assert len(reply.body) == 29 or status != 200
    assert shortcut.answers[before:] == by_shortcut


def test_pipelined_requests_are_answered_in_order(server: LiveServer) -> None:
    token = server.token("pipeline")
    exchange(server, get(BY_OBLAST, token), 1)
    requests = (
        get(BY_OBLAST, token)
        + get("/healthz", token)
        + get("/v1/iot/active_air_raid_alerts/16.json", token)
        + get("/v1/iot/active_air_raid_alerts/6.json", token)
        + get("/api/v3/alerts/status", f"x{token}")
    )
    replies = exchange(server, requests, 5)
    assert [r.status for r in replies] == [200, 200, 200, 404, 401]
    assert replies[1].body.startswith(b'{"status":"ok"')
    assert replies[2].body == b'"A"'


def test_a_slow_reader_does_not_buffer_unbounded_answers(server: LiveServer) -> None:
    token = server.token("pipelined-many")
    exchange(server, get("/v1/alerts/active.json", token), 1)
    replies = exchange(server, get("/v1/alerts/active.json", token) * 50, 50)
    assert [r.status for r in replies] == [200] * 50


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        pytest.param(b"GET %s HTTP/1.0\r\nAuthorization: Bearer {t}\r\n\r\n", 200, id="http-1.0"),
        pytest.param(b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n"
                     b"Content-Length: 0\r\n\r\n", 405, id="post"),
        pytest.param(b"GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n"
                     b"Content-Length: 3\r\n\r\nabc", 200, id="with-body"),
        pytest.param(b"GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n"
                     b"Connection: close\r\n\r\n", 200, id="connection-close"),
    ],
)  # fmt: skip
def test_other_requests_go_the_normal_way(
    server: LiveServer, shortcut: Shortcut, request_bytes: bytes, status: int
) -> None:
    token = server.token(f"normal{abs(hash(request_bytes)) % 10**8}")
    exchange(server, get(BY_OBLAST, token), 1)  # the key is known from here on
    before = len(shortcut.answers)
    data = request_bytes.replace(b"%s", BY_OBLAST.encode()).replace(b"{t}", token.encode())
    (reply,) = exchange(server, data, 1)
    assert reply.status == status
    assert shortcut.answers[before:] == []


def test_a_keyed_request_through_a_proxy_takes_the_shortcut(
    server: LiveServer, shortcut: Shortcut
) -> None:
    token = server.token("proxied")
    connection = Connection(server)
    connection.exchange(get(BY_OBLAST, token), 1)
    before = len(shortcut.answers)
    (reply,) = connection.exchange(get(BY_OBLAST, token, "X-Forwarded-For: 192.0.2.1"), 1)
    connection.close()
    assert reply.status == 200
    assert shortcut.answers[before:] == [200]


def test_a_long_keep_alive_connection_mixes_both_ways(server: LiveServer) -> None:
    token = server.token("long")
    requests = b"".join(get(BY_OBLAST if n % 3 else "/api/v3/alerts/16", token) for n in range(30))
    replies = exchange(server, requests, 30)
    assert {r.status for r in replies} == {200}
    assert all(r.body.startswith(b"[") for n, r in enumerate(replies) if n % 3 == 0)
    assert all(len(r.body) == 29 for n, r in enumerate(replies) if n % 3)


def test_keyless_requests_through_a_proxy_go_the_normal_way(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Without a key they are limited by the client's address, which only the normal way knows."""
    answers = Shortcut()
    with live_server(
        tmp_path_factory.mktemp("keyless"), shortcut=True, on_answer=answers, compat_keyless=True
    ) as server:
        plain = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % BY_OBLAST.encode()
        proxied = b"GET %s HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.1\r\n\r\n" % (
            BY_OBLAST.encode()
        )
        connection = Connection(server)
        replies = [connection.exchange(data, 1)[0] for data in (plain, proxied, plain)]
        connection.close()
    assert [r.status for r in replies] == [200, 200, 200]
    assert answers.answers == [200, 200]


def read_chunk(connection: Connection) -> bytes:
    """One chunk of a chunked response body, checked to be framed exactly."""
    while b"\r\n" not in connection.buffer:
        connection.buffer += _receive(connection.sock)
    size_line, connection.buffer = connection.buffer.split(b"\r\n", 1)
    size = int(size_line, 16)
    while len(connection.buffer) < size + 2:
        connection.buffer += _receive(connection.sock)
    chunk, tail = connection.buffer[:size], connection.buffer[size : size + 2]
    connection.buffer = connection.buffer[size + 2 :]
    assert tail == b"\r\n"
    return chunk


def test_a_stream_writes_its_events_past_send_as_send_would(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    took: list[bool] = []
    write_now = SseWriter.write_now

    def counted(writer: SseWriter, message: dict[str, object]) -> bool:
        took.append(write_now(writer, message))
        return took[-1]

    monkeypatch.setattr(SseWriter, "write_now", counted)
    connection = Connection(server)
    connection.sock.sendall(b"GET /api/stream?regions=14 HTTP/1.1\r\nHost: x\r\n\r\n")
    while b"\r\n\r\n" not in connection.buffer:
        connection.buffer += _receive(connection.sock)
    head, connection.buffer = connection.buffer.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200")
    assert b"transfer-encoding: chunked" in head.lower()
    assert read_chunk(connection) == b"retry: 2000\n\n"
    server.raise_("14")
    raised = read_chunk(connection)
    server.lift("14")
    lifted = read_chunk(connection)
    connection.close()
    assert raised.startswith(b"id: ") and b"\nevent: alert.raised\ndata: {" in raised
    assert lifted.startswith(b"id: ") and b"\nevent: alert.lifted\ndata: {" in lifted
    assert raised.endswith(b"}\n\n") and lifted.endswith(b"}\n\n")
    assert took == [True, True]  # the retry line went through `send`, both events past it
