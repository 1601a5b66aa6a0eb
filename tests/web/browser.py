"""
What the browser tests share: Debian's Chromium driven by Playwright, and a real server
(uvicorn on 127.0.0.1, in a thread of the test process so that its clock can be set).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import ConsoleMessage, Page, Request, ViewportSize

from tests.backends import in_ci
from tests.servers import free_port
from tests.web.clock import SettableClock
from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.regions_io import load_bundled
from tryvoha.shelters.geojson import read_shelters
from tryvoha.shelters.repository import ShelterRepository
from tryvoha.storage.factory import open_store
from tryvoha.storage.sqlite import SQLiteStore
from tryvoha.tokens import create_token

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium reaches for Google's servers, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
READY = "html[data-shapes='all'][data-live]"
"""The page has drawn every level and applied the live snapshot."""


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if in_ci():
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(message)


@dataclass
class LiveServer:
    url: str
    port: int
    token: str
    clock: SettableClock
    store: SQLiteStore
    public_read: bool = True
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    def serve(self) -> None:
        """Start (or start again) on the same port, store and clock."""
        app = create_app(
            Settings(database_url=str(self.store.url), public_read=self.public_read),
            store=self.store,
            bus=MemoryBus(),
            registry=load_bundled(),
            clock=self.clock,
        )
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="test-server", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=15)
            self.server = None


@contextmanager
def live_server(
    tmp_path: Path, clock: SettableClock, shelters: Path | None = None, *, public_read: bool = True
) -> Iterator[LiveServer]:
    store = open_store(f"sqlite:///{tmp_path / 'map.db'}")
    assert isinstance(store, SQLiteStore)
    token = create_token(store, name="duty-operator", role=Role.OPERATOR)
    if shelters is not None:
        repository = ShelterRepository.for_store(store)
        repository.save(read_shelters(shelters.read_bytes()).shelters, shelters.name)
    url = f"http://127.0.0.1:{(port := free_port())}"
    server = LiveServer(url, port, token, clock, store, public_read)
    server.serve()
    try:
        yield server
    finally:
        server.stop()
        store.close()


def post(server: LiveServer, path: str, body: dict[str, Any]) -> None:
    """A command through the API, as the server's operator."""
    response = httpx.post(
        server.url + path,
        json=body,
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=10,
    )
    assert response.status_code < 300, response.text


@dataclass
class Watched:
    """A page with everything it logged and every request it made."""

    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def allow(self, pattern: str) -> None:
        """Console errors matching *pattern* are expected (e.g. while the server is down)."""
        self.allowed.append(re.compile(pattern))

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]

    def shot(self, name: str, *, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=path, full_page=full_page)
        return path
