"""
A real tryvoha server on 127.0.0.1 for the real clients: uvicorn in a thread, a temporary
SQLite database, and an operator who raises and lifts through the native API.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tryvoha.api.app import create_app
from tryvoha.compat.protocol import compat_http_protocol, shortcut_protocol
from tryvoha.compat.runtime import CompatRuntime, compat_runtime
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.regions_io import load_bundled
from tryvoha.storage.sqlite import SQLiteStore
from tryvoha.tokens import create_token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: FastAPI
    database: Path
    operator: str
    reader: str

    @property
    def runtime(self) -> CompatRuntime:
        runtime: CompatRuntime = self.app.state.compat
        return runtime

    def token(self, name: str, role: Role = Role.READER) -> str:
        store = SQLiteStore(self.database)
        try:
            return create_token(store, name=name, role=role)
        finally:
            store.close()

    def command(self, path: str, regions: tuple[str, ...], **extra: Any) -> None:
        response = httpx.post(
            f"{self.url}{path}",
            json={"regions": list(regions), **extra},
            headers={"Authorization": f"Bearer {self.operator}"},
        )
        assert response.status_code in (200, 201), response.text

    def raise_(self, *regions: str, **extra: Any) -> None:
        self.command("/api/alerts", regions, **extra)

    def lift(self, *regions: str, type: str = "air_raid") -> None:
        self.command("/api/alerts/lift", regions, type=type)

    def lift_everything(self) -> None:
        active = httpx.get(f"{self.url}/api/alerts/active").json()["alerts"]
        for alert in active:
            self.lift(alert["region_id"], type=alert["type"])

    def answered(self, status_class: str) -> float:
        """How many GETs the server has answered with a status of *status_class* (`3xx`)."""
        text = httpx.get(f"{self.url}/metrics").text
        prefix = f'tryvoha_http_requests_total{{method="GET",status="{status_class}"}} '
        for line in text.splitlines():
            if line.startswith(prefix):
                return float(line[len(prefix) :])
        return 0.0


@contextmanager
def live_server(
    directory: Path,
    *,
    shortcut: bool,
    on_answer: Callable[[int], None] | None = None,
    **settings: Any,
) -> Iterator[LiveServer]:
    """
    A server on a free loopback port; `shortcut` serves it with `compat_http_protocol`
    (or, given *on_answer*, with a shortcut protocol that reports each of its answers).
    """
    database = directory / "tryvoha.db"
    store = SQLiteStore(database)
    store.migrate()
    operator = create_token(store, name="duty", role=Role.OPERATOR)
    reader = create_token(store, name="device", role=Role.READER)
    store.close()
    port = free_port()
    app = create_app(
        Settings(database_url=f"sqlite:///{database}", **settings), registry=load_bundled()
    )
    http: Any = "httptools"
    if shortcut:
        http = compat_http_protocol(app)
        if on_answer is not None:
            http = shortcut_protocol(compat_runtime(app), on_answer)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=http, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tryvoha-live", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app, database, operator, reader)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
