"""
NATS for the bus tests: a stream of its own per test on the shared server, and a private
server that a test may stop and start again.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import nats
import pytest

from tests.backends import in_ci, require_service
from tryvoha.bus.nats import NATSOptions
from tryvoha.core.model import Alert, AlertLevel, AlertType, Event, EventKind

DEFAULT_URL = "nats://127.0.0.1:4222"
T0 = datetime(2025, 7, 4, 21, 0, tzinfo=UTC)


def server_url() -> str:
    return os.environ.get("TRYVOHA_TEST_NATS_URL", DEFAULT_URL)


def require_nats() -> str:
    url = server_url()
    parsed = urlparse(url)
    require_service("NATS", parsed.hostname or "127.0.0.1", parsed.port or 4222)
    return url


def unique_options(url: str, heartbeat_s: float = 0.5) -> NATSOptions:
    """A stream and subject no other test run uses."""
    tag = secrets.token_hex(4)
    return NATSOptions(
        servers=(url,),
        stream=f"TRYVOHA_TEST_{tag.upper()}",
        subject=f"tryvoha.test.{tag}.events",
        heartbeat_s=heartbeat_s,
    )


async def delete_stream(options: NATSOptions) -> None:
    connection = await nats.connect(servers=list(options.servers), connect_timeout=2)
    try:
        await connection.jetstream().delete_stream(options.stream)
    except Exception:
        pass
    finally:
        await connection.close()


@asynccontextmanager
async def own_stream(url: str | None = None) -> AsyncIterator[NATSOptions]:
    options = unique_options(url or require_nats())
    try:
        yield options
    finally:
        await delete_stream(options)


def raised(seq: int, region: str = "31") -> Event:
    at = T0 + timedelta(seconds=seq)
    alert = Alert(seq, region, AlertType.AIR_RAID, AlertLevel.ALERT, at, at, "duty")
    return Event(seq, EventKind.RAISED, at, "duty", alert)


# -- a private server ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateServer:
    """A `nats-server -js` of the test's own, on a free port, with its data in *store_dir*."""

    def __init__(self, store_dir: Path) -> None:
        self.port = _free_port()
        self.store_dir = store_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        self.process = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextmanager
def private_server(tmp_path: Path) -> Iterator[PrivateServer]:
    """
    Needs the `nats-server` binary (Debian package `nats-server`): fails in CI, skips
    elsewhere when it is missing.
    """
    if shutil.which("nats-server") is None and not Path("/usr/sbin/nats-server").exists():
        message = "nats-server is not installed (apt-get install nats-server)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    server = PrivateServer(tmp_path / "jetstream")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def with_servers(options: NATSOptions, url: str) -> NATSOptions:
    return replace(options, servers=(url,))
