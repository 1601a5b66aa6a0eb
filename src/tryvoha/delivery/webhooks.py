"""
Webhook subscriptions over HTTP (`/api/webhooks`), and the delivery wired into the app.

Admin and reader tokens manage webhooks; a reader sees only its own, an admin sees all.
Every node of a cluster serves the routes; delivery runs on the leader only, starting each
time the node becomes it: the subscriptions' cursors are read back from the outbox and each
receiver gets what it has not acknowledged yet. Other features reach the running
`WebhookRegistry` as `app.state.webhooks` and add body formats with
`tryvoha.delivery.formats.add_body_format`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from starlette.responses import Response

from tryvoha.api.deps import require
from tryvoha.api.errors import ApiError, error_responses
from tryvoha.cluster import run_while_leading
from tryvoha.core.auth import Permission, Role, TokenRecord
from tryvoha.delivery.dispatcher import REFRESH_SECONDS, Dispatcher, Timing
from tryvoha.delivery.feed import EventFeed
from tryvoha.delivery.formats import body_formats
from tryvoha.delivery.metrics import WebhookMetrics
from tryvoha.delivery.model import Webhook
from tryvoha.delivery.options import WebhookOptions
from tryvoha.delivery.outbox import Outbox, open_outbox
from tryvoha.delivery.registry import (
    InvalidWebhook,
    TooManyWebhooks,
    WebhookError,
    WebhookNotFound,
    WebhookRegistry,
)
from tryvoha.delivery.wire import (
    DeadLettersOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
    WebhooksOut,
    dead_letter_to_dict,
    webhook_to_dict,
)
from tryvoha.service import AlertService

router = APIRouter(tags=["webhooks"])

ManagerDep = Annotated[TokenRecord, Depends(require(Permission.MANAGE_WEBHOOKS))]
WebhookId = Annotated[str, Path(max_length=64)]


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type="application/json")


def get_webhooks(request: Request) -> WebhookRegistry:
    webhooks: WebhookRegistry | None = getattr(request.app.state, "webhooks", None)
    if webhooks is None:
        raise ApiError(503, "unavailable", "webhook delivery is not running")
    return webhooks


WebhooksDep = Annotated[WebhookRegistry, Depends(get_webhooks)]


def _owner(token: TokenRecord) -> str | None:
    """Whose webhooks the token sees: its own, or all for an admin."""
    return None if token.role is Role.ADMIN else token.name


def _api_error(exc: WebhookError) -> ApiError:
    if isinstance(exc, WebhookNotFound):
        return ApiError(404, "not_found", exc.message)
    if isinstance(exc, TooManyWebhooks):
        return ApiError(409, "too_many_webhooks", exc.message)
    if isinstance(exc, InvalidWebhook):
        return ApiError(422, exc.code, exc.message)
    return ApiError(422, "invalid_request", exc.message)


async def _render(
    webhooks: WebhookRegistry, webhook: Webhook, with_secret: bool = False
) -> dict[str, Any]:
    count = await webhooks.count_dead_letters(webhook.id)
    return webhook_to_dict(webhook, count, with_secret=with_secret)


@router.post(
    "/api/webhooks",
    status_code=201,
    response_model=WebhookCreatedOut,
    responses=error_responses(400, 401, 403, 409, 413, 422, 503),
)
async def create_webhook(body: WebhookIn, token: ManagerDep, webhooks: WebhooksDep) -> Response:
    """
    Subscribe a URL to the events from now on (optionally only some regions and types).
    The answer holds the signing secret; it is never shown again.
    """
    try:
        webhook = await webhooks.create(
            body.url, owner=token.name, regions=body.regions, types=body.types, secret=body.secret
        )
    except WebhookError as exc:
        raise _api_error(exc) from None
    return _json(await _render(webhooks, webhook, with_secret=True), 201)


@router.get("/api/webhooks", response_model=WebhooksOut, responses=error_responses(401, 403, 503))
async def list_webhooks(token: ManagerDep, webhooks: WebhooksDep) -> Response:
    """
    The caller's webhooks (an admin's: everyone's), with their delivery state.
    """
    found = await webhooks.list_webhooks(owner=_owner(token))
    rendered = await asyncio.gather(*(_render(webhooks, w) for w in found))
    return _json({"webhooks": list(rendered)})


@router.get(
    "/api/webhooks/{webhook_id}",
    response_model=WebhookOut,
    responses=error_responses(401, 403, 404, 503),
)
async def get_webhook(webhook_id: WebhookId, token: ManagerDep, webhooks: WebhooksDep) -> Response:
    """
    One webhook: its cursor (the newest event it is done with), failures and next attempt.
    """
    try:
        webhook = await webhooks.get(webhook_id, owner=_owner(token))
    except WebhookError as exc:
        raise _api_error(exc) from None
    return _json(await _render(webhooks, webhook))


@router.delete(
    "/api/webhooks/{webhook_id}", status_code=204, responses=error_responses(401, 403, 404, 503)
)
async def delete_webhook(
    webhook_id: WebhookId, token: ManagerDep, webhooks: WebhooksDep
) -> Response:
    """
    Stop delivering and remove the webhook.
    """
    try:
        await webhooks.delete(webhook_id, owner=_owner(token))
    except WebhookError as exc:
        raise _api_error(exc) from None
    return Response(status_code=204)


@router.get(
    "/api/webhooks/{webhook_id}/dead-letters",
    response_model=DeadLettersOut,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def list_dead_letters(
    webhook_id: WebhookId,
    token: ManagerDep,
    webhooks: WebhooksDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """
    Events given up on after 24 hours of failed retries, oldest first.
    """
    try:
        letters = await webhooks.dead_letters(
            webhook_id, owner=_owner(token), after=after, limit=limit
        )
    except WebhookError as exc:
        raise _api_error(exc) from None
    return _json(
        {
            "webhook_id": webhook_id,
            "dead_letters": [dead_letter_to_dict(d) for d in letters],
            "next_after": letters[-1].seq if len(letters) == limit else None,
        }
    )


# -- wiring --------------------------------------------------------------------------------


class _Terms:
    """
    A fresh dispatcher for each term in which this node leads (a stopped one cannot
    restart); the registry delivers through it while it runs.
    """

    def __init__(self, make: Callable[[], Dispatcher], outbox: Outbox) -> None:
        self._make = make
        self._outbox = outbox
        self._lock = asyncio.Lock()
        self._closed = False
        self.dispatcher: Dispatcher | None = None
        self.registry: WebhookRegistry | None = None

    async def begin(self) -> None:
        async with self._lock:
            if self._closed or self.dispatcher is not None:
                return
            dispatcher = self._make()
            await dispatcher.start(await asyncio.to_thread(self._outbox.list_webhooks))
            self.dispatcher = dispatcher
            if self.registry is not None:
                self.registry.dispatcher = dispatcher

    async def end(self) -> None:
        async with self._lock:
            dispatcher, self.dispatcher = self.dispatcher, None
            if self.registry is not None:
                self.registry.dispatcher = None
            if dispatcher is not None:
                await dispatcher.stop()

    async def close(self) -> None:
        """End the term for good: the app stops before leadership hands the duty back."""
        self._closed = True
        await self.end()


@dataclass(slots=True)
class _Running:
    outbox: Outbox
    feed: EventFeed
    terms: _Terms


def install(app: FastAPI) -> None:
    """Add the webhook routes; deliver while this node leads the cluster."""
    app.include_router(router)
    formats = body_formats(app)
    metrics = WebhookMetrics(app.state.metrics.registry)
    # Tests replace these before the app starts, to compress time or answer DNS.
    app.state.webhook_timing = Timing()
    app.state.webhook_resolver = None
    app.state.webhook_refresh_seconds = REFRESH_SECONDS
    app.state.webhooks = None

    async def start(app: FastAPI) -> None:
        service: AlertService = app.state.service
        options = WebhookOptions.from_settings(app.state.settings)
        timing: Timing = app.state.webhook_timing
        outbox = open_outbox(service.store, app.state.settings.database_url)
        feed = EventFeed(service)
        await feed.start()

        def dispatcher() -> Dispatcher:
            return Dispatcher(
                feed=feed,
                outbox=outbox,
                regions=app.state.registry,
                formats=formats,
                metrics=metrics,
                options=options,
                timing=timing,
                resolver=app.state.webhook_resolver,
                refresh_seconds=app.state.webhook_refresh_seconds,
            )

        terms = _Terms(dispatcher, outbox)
        terms.registry = app.state.webhooks = WebhookRegistry(
            outbox=outbox,
            regions=app.state.registry,
            formats=formats,
            last_seq=lambda: feed.last_seq,
            clock=timing.clock,
            options=options,
            resolver=app.state.webhook_resolver,
        )
        app.state.webhook_delivery = _Running(outbox, feed, terms)
        await run_while_leading(app, terms.begin, terms.end)

    async def stop(app: FastAPI) -> None:
        running: _Running | None = getattr(app.state, "webhook_delivery", None)
        app.state.webhooks = None
        app.state.webhook_delivery = None
        if running is None:
            return
        await running.terms.close()
        await running.feed.stop()
        running.outbox.close()

    app.state.on_start.append(start)
    app.state.on_stop.append(stop)
