"""
What both compatible APIs share while the server runs: who may ask, how often, and when
things last changed.

A valid key is any active tryvoha token (every role may read). In keyless mode
(`TRYVOHA_COMPAT_KEYLESS`, as siren.pp.ua offers) no key is needed; requests without a
valid one are limited per client address instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from fastapi import FastAPI

from tryvoha.compat.answers import Answer, rate_limited, unauthorized
from tryvoha.compat.cache import BodyCache
from tryvoha.compat.changes import ChangeTimes
from tryvoha.compat.formats import EPOCH
from tryvoha.compat.keycache import KeyCache
from tryvoha.compat.ratelimit import CompatLimits, RateLimiter
from tryvoha.core.auth import Permission, TokenRecord, has_permission
from tryvoha.core.regions import RegionRegistry
from tryvoha.service import AlertService, utc_now
from tryvoha.tokens import hash_token

T = TypeVar("T")

SEED_EVENTS = 20_000
"""How much of the log's tail is read at start to learn when regions last changed."""


@dataclass(frozen=True, slots=True)
class Admission:
    status: int
    """200 to go ahead, else 401 or 429."""
    message: str = ""
    token: TokenRecord | None = None
    retry_after: int = 0

    def refusal(self) -> Answer | None:
        """The answer that refuses the request, or None to go ahead."""
        if self.status == 401:
            return unauthorized(self.message)
        if self.status == 429:
            return rate_limited(self.message, self.retry_after)
        return None


class CompatRuntime:
    def __init__(
        self,
        registry: RegionRegistry,
        *,
        keyless: bool,
        limits: CompatLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self.keyless = keyless
        self.keys = KeyCache()
        self.changes = ChangeTimes()
        self.bodies = BodyCache()
        self._clock = clock
        self._service: AlertService | None = None
        self._memo: dict[str, tuple[int, Any]] = {}
        self.started_at = EPOCH
        self.now: Callable[[], datetime] = utc_now
        """The wall clock history windows are measured on: the app's clock."""
        self.set_limits(limits or CompatLimits())

    def set_limits(self, limits: CompatLimits) -> None:
        self.limits = limits
        self._requests = RateLimiter(limits.requests)
        self._history = RateLimiter(limits.history)

    @property
    def service(self) -> AlertService:
        if self._service is None:
            raise RuntimeError("the compatible APIs are used before the server started")
        return self._service

    async def start(self, service: AlertService) -> None:
        # Listen first, then read the tail: events in between are folded twice, harmlessly.
        service.add_listener(self.changes.fold)
        self._service = service
        self.started_at = self.now()
        tail = await service.read_events(max(0, service.last_seq - SEED_EVENTS), SEED_EVENTS)
        self.changes.seed(tail)

    def per_version(self, name: str, compute: Callable[[], T]) -> T:
        """*compute*'s value, computed once per log version."""
        version = self.service.last_seq
        hit = self._memo.get(name)
        if hit is not None and hit[0] == version:
            value: T = hit[1]
            return value
        value = compute()
        self._memo[name] = (version, value)
        return value

    def admit_now(
        self, raw_key: str | None, client: str, *, history: bool = False
    ) -> Admission | None:
        """`admit` without waiting, or None when the key must first be looked up."""
        now = self._clock()
        token = None
        if raw_key:
            known, token = self.keys.get(raw_key, now)
            if not known:
                return None
        return self._decide(token, raw_key, client, history, now)

    async def admit(self, raw_key: str | None, client: str, *, history: bool = False) -> Admission:
        """Check the key (unless keyless) and take one request from its rate bucket."""
        now = self._clock()
        token = None
        if raw_key:
            known, token = self.keys.get(raw_key, now)
            if not known:
                token = await self._lookup(raw_key, now)
        return self._decide(token, raw_key, client, history, now)

    def _decide(
        self,
        token: TokenRecord | None,
        raw_key: str | None,
        client: str,
        history: bool,
        now: float,
    ) -> Admission:
        if token is None and not self.keyless:
            message = "invalid or revoked API token" if raw_key else "an API token is required"
            return Admission(401, message)
        # A token hash is hex, so it never collides with an address bucket.
        bucket = token.token_hash if token is not None else "addr:" + client
        limiter = self._history if history else self._requests
        if not limiter.allow(bucket, now):
            wait = limiter.retry_after(bucket, now)
            return Admission(429, f"rate limit exceeded; retry in {wait} s", token, wait)
        return Admission(200, token=token)

    async def _lookup(self, raw_key: str, now: float) -> TokenRecord | None:
        record = await self.service.read(self.service.store.find_token, hash_token(raw_key))
        if record is not None and not (
            record.is_active and has_permission(record.role, Permission.READ)
        ):
            record = None
        self.keys.put(raw_key, record, now)
        return record


def compat_runtime(app: FastAPI) -> CompatRuntime:
    """The app's runtime, created (with its start hook) by whichever API installs first."""
    existing: CompatRuntime | None = getattr(app.state, "compat", None)
    if existing is not None:
        return existing
    settings = app.state.settings
    runtime = CompatRuntime(
        app.state.registry,
        keyless=settings.compat_keyless,
        limits=CompatLimits.from_settings(settings),
    )
    app.state.compat = runtime

    async def start(app: FastAPI) -> None:
        runtime.now = app.state.clock
        await runtime.start(app.state.service)

    app.state.on_start.append(start)
    return runtime
