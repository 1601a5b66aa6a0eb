"""
Apps for the compatible APIs, with a clock the test moves and tokens of every role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.compat.fastpath import FastPathMiddleware
from tryvoha.compat.runtime import CompatRuntime
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.regions import RegionRegistry
from tryvoha.storage.memory import MemoryStore
from tryvoha.tokens import create_token


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Compat:
    """A running app, its store and clock, and an operator's and a reader's token."""

    client: TestClient
    store: MemoryStore
    clock: Clock
    operator: str
    reader: str

    @property
    def runtime(self) -> CompatRuntime:
        runtime: CompatRuntime = self.client.app.state.compat  # type: ignore[attr-defined]
        return runtime

    def raise_(self, *regions: str, **extra: object) -> None:
        response = self.client.post(
            "/api/alerts",
            json={"regions": list(regions), "type": "air_raid", **extra},
            headers={"Authorization": f"Bearer {self.operator}"},
        )
        assert response.status_code in (200, 201), response.text

    def lift(self, *regions: str, type: str = "air_raid") -> None:
        response = self.client.post(
            "/api/alerts/lift",
            json={"regions": list(regions), "type": type},
            headers={"Authorization": f"Bearer {self.operator}"},
        )
        assert response.status_code == 200, response.text


StartCompat = Callable[..., AbstractContextManager[Compat]]


@pytest.fixture
def compat_app(registry: RegionRegistry) -> StartCompat:
    @contextmanager
    def start(
        store: MemoryStore | None = None,
        clock: Clock | None = None,
        without_fast_path: bool = False,
        **settings: object,
    ) -> Iterator[Compat]:
        store = store or MemoryStore()
        clock = clock or Clock()
        operator = create_token(store, name=f"duty{len(store.list_tokens())}", role=Role.OPERATOR)
        reader = create_token(store, name=f"device{len(store.list_tokens())}", role=Role.READER)
        app = create_app(
            Settings(**settings),  # type: ignore[arg-type]
            store=store,
            bus=MemoryBus(),
            registry=registry,
            clock=clock,
        )
        if without_fast_path:
            fast_path: object = FastPathMiddleware
            app.user_middleware = [m for m in app.user_middleware if m.cls is not fast_path]
        with TestClient(app) as client:
            yield Compat(client, store, clock, operator, reader)

    return start


@pytest.fixture
def compat(compat_app: StartCompat) -> Iterator[Compat]:
    with compat_app() as running:
        yield running
