"""
`Sender`: the HTTP side of webhooks, one signed POST per event.

Each subscription gets an HTTP client of its own holding one kept-alive connection: it
never has more than one request in flight anyway, and small pools stay fast where one
shared pool over hundreds of connections does not (httpcore scans its pool per request).
The clients share one TLS context. The URL guard runs before a request, and its answer
is reused for a short while so that a busy subscription does not resolve its host per event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

import httpx

from tryvoha import __version__
from tryvoha.core.model import Event
from tryvoha.delivery.model import Webhook
from tryvoha.delivery.signing import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    WEBHOOK_ID_HEADER,
    sign,
)
from tryvoha.delivery.urlguard import RefusedUrl, Resolver, UrlPolicy, check_url

MAX_ERROR_LENGTH = 500
MAX_ANSWER_BYTES = 64 * 1024
GUARD_TTL_SECONDS = 30.0


async def _drain(response: httpx.Response) -> None:
    """
    Read a short answer to its end, so its connection can carry the next request; a long
    one is cut off (only the status matters).
    """
    seen = 0
    async for chunk in response.aiter_raw():
        seen += len(chunk)
        if seen > MAX_ANSWER_BYTES:
            return


class Sender:
    def __init__(
        self,
        *,
        policy: UrlPolicy,
        resolver: Resolver,
        clock: Callable[[], datetime],
        timeout_seconds: float,
        concurrency: int,
    ) -> None:
        self.policy = policy
        self._resolver = resolver
        self._clock = clock
        self._timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0))
        self._tls = httpx.create_ssl_context()
        self._slots = asyncio.Semaphore(max(concurrency, 1))
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._guarded: dict[str, float] = {}

    def _client(self, webhook_id: str) -> httpx.AsyncClient:
        client = self._clients.get(webhook_id)
        if client is None:
            client = self._clients[webhook_id] = httpx.AsyncClient(
                timeout=self._timeout,
                verify=self._tls,
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                headers={"User-Agent": f"tryvoha/{__version__} webhooks"},
            )
        return client

    async def _check(self, url: str) -> None:
        """Raise `RefusedUrl` unless the guard allowed *url* recently or allows it now."""
        now = time.monotonic()
        if self._guarded.get(url, 0.0) > now:
            return
        await check_url(url, self.policy, self._resolver)
        self._guarded[url] = now + GUARD_TTL_SECONDS

    async def post(self, webhook: Webhook, event: Event, body: bytes, attempt: int) -> str | None:
        """Send one event; None when the receiver answered 2xx, else what went wrong."""
        try:
            await self._check(webhook.url)
        except RefusedUrl as exc:
            return str(exc)
        timestamp = int(self._clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(webhook.secret, body, timestamp),
            EVENT_ID_HEADER: str(event.seq),
            ATTEMPT_HEADER: str(attempt),
            WEBHOOK_ID_HEADER: webhook.id,
        }
        async with self._slots:
            try:
                async with self._client(webhook.id).stream(
                    "POST", webhook.url, content=body, headers=headers
                ) as response:
                    status = response.status_code
                    await _drain(response)
            except Exception as exc:
                detail = str(exc)[:MAX_ERROR_LENGTH]
                return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        if 200 <= status < 300:
            return None
        return f"HTTP {status}"

    async def discard(self, webhook_id: str) -> None:
        """Close the subscription's connection (it was deleted)."""
        client = self._clients.pop(webhook_id, None)
        if client is not None:
            await client.aclose()

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
