"""
Shared fixtures: the bundled registry, an in-memory app, tokens.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from tryvoha.api.app import create_app
from tryvoha.bus.memory import MemoryBus
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.regions import RegionRegistry
from tryvoha.regions_io import load_bundled
from tryvoha.storage.memory import MemoryStore
from tryvoha.tokens import create_token

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def registry() -> RegionRegistry:
    return load_bundled()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def client(registry: RegionRegistry, store: MemoryStore) -> Iterator[TestClient]:
    app = create_app(Settings(), store=store, bus=MemoryBus(), registry=registry)
    with TestClient(app) as test_client:
        yield test_client


def make_token(store: MemoryStore, name: str, role: Role, regions: tuple[str, ...] = ()) -> str:
    return create_token(store, name=name, role=role, regions=regions)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
