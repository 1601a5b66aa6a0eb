"""
ukrainealarm's webhook registration (`POST/PATCH/DELETE /api/v3/webhook`) on top of
tryvoha's durable webhook delivery.

A key has at most one such webhook, as on the original: POST sets its URL (replacing an
earlier one), PATCH changes it, DELETE removes it. Each answers `{"webHookUrl": ...}`.
Deliveries are `AlertRegionModel` bodies (format `ukrainealarm`), signed like every
tryvoha webhook, for every region's every change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson

from tryvoha.compat import ukrainealarm as ua
from tryvoha.compat.answers import Answer, error, json_answer
from tryvoha.core.errors import TryvohaError
from tryvoha.core.lifecycle import ActiveAlerts
from tryvoha.core.model import AlertKey, AlertType, Event
from tryvoha.core.regions import RegionRegistry
from tryvoha.delivery.model import Webhook
from tryvoha.delivery.registry import TooManyWebhooks, WebhookError, WebhookRegistry

FORMAT = "ukrainealarm"


def body_renderer(
    active: Callable[[], ActiveAlerts],
) -> Callable[[Event, RegionRegistry], bytes | None]:
    """
    The `ukrainealarm` webhook body format. The region's alerts of other types are taken
    from *active* (the live projection) when the body is rendered: right for a delivery
    made as the event happens, approximate for a retry made much later.
    """

    def render(event: Event, registry: RegionRegistry) -> bytes | None:
        alerts = active().as_mapping()
        others = [
            alert
            for alert_type in AlertType
            if alert_type is not event.type
            and (alert := alerts.get(AlertKey(event.region_id, alert_type))) is not None
        ]
        model = ua.webhook_model(event, registry, others)
        return None if model is None else orjson.dumps(model)

    return render


def requested_url(body: bytes, *, required: bool) -> str | Answer | None:
    """The `webHookUrl` of a request body, or the 400 answer saying what is wrong."""
    if not body.strip():
        return error(400, "a JSON body with webHookUrl is required") if required else None
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return error(400, "the body is not JSON")
    url = data.get("webHookUrl") if isinstance(data, dict) else None
    if isinstance(url, str) and url.strip():
        return url.strip()
    if required or (isinstance(data, dict) and "webHookUrl" in data and url is not None):
        return error(400, "webHookUrl must be a non-empty string")
    return None


async def _own(webhooks: WebhookRegistry, owner: str) -> list[Webhook]:
    return [w for w in await webhooks.list_webhooks(owner=owner) if w.body_format == FORMAT]


async def _create(webhooks: WebhookRegistry, owner: str, url: str) -> Answer | None:
    try:
        await webhooks.create(url, owner=owner, body_format=FORMAT)
    except TooManyWebhooks as exc:
        return error(409, exc.message)
    except (WebhookError, TryvohaError) as exc:
        return error(400, exc.message)
    return None


async def _remove(webhooks: WebhookRegistry, owner: str, doomed: list[Webhook]) -> None:
    for webhook in doomed:
        # Gone already (a concurrent request deleted it) is what was wanted.
        with contextlib.suppress(WebhookError):
            await webhooks.delete(webhook.id, owner=owner)


async def subscribe(webhooks: WebhookRegistry, owner: str, url: str) -> Answer:
    existing = await _own(webhooks, owner)
    if [w.url for w in existing] == [url]:
        return json_answer({"webHookUrl": url})
    refused = await _create(webhooks, owner, url)
    if refused is not None:
        return refused
    await _remove(webhooks, owner, existing)
    return json_answer({"webHookUrl": url})


async def change(webhooks: WebhookRegistry, owner: str, url: str) -> Answer:
    existing = await _own(webhooks, owner)
    if not existing:
        return error(404, "this key has no webhook; POST one first")
    return await subscribe(webhooks, owner, url)


async def unsubscribe(webhooks: WebhookRegistry, owner: str, url: str | None) -> Answer:
    existing = await _own(webhooks, owner)
    doomed = [w for w in existing if url is None or w.url == url]
    if not doomed:
        return error(404, "this key has no such webhook")
    await _remove(webhooks, owner, doomed)
    return json_answer({"webHookUrl": None})
