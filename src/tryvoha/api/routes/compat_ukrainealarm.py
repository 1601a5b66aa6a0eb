"""
The api.ukrainealarm.com v3 API (`/api/v3/...`): a drop-in server for its clients, Home
Assistant's `ukraine_alarm` integration among them.

The key is the raw `Authorization: <key>` header (a tryvoha token; `Bearer <key>` works
too). With `TRYVOHA_COMPAT_KEYLESS=1` no key is needed, as on siren.pp.ua.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from starlette.responses import Response

from tryvoha.compat import ukrainealarm as ua
from tryvoha.compat import ukrainealarm_webhooks as hooks
from tryvoha.compat.answers import (
    JSON,
    NOT_MODIFIED_SCHEMA,
    Answer,
    error,
    error_schema,
    json_answer,
    ok_schema,
    unauthorized,
)
from tryvoha.compat.runtime import CompatRuntime, compat_runtime
from tryvoha.core.auth import Permission, has_permission
from tryvoha.core.lifecycle import ActiveAlerts
from tryvoha.core.model import AlertKey, AlertType
from tryvoha.delivery.formats import add_body_format
from tryvoha.delivery.registry import WebhookRegistry
from tryvoha.service import AlertService
from tryvoha.storage.base import HistoryQuery

router = APIRouter(prefix="/api/v3", tags=["ukrainealarm compatible"])

KYIV = ZoneInfo("Europe/Kyiv")
REGION_HISTORY_ALERTS = 25
MAX_DAY_ALERTS = 5000


def _key(request: Request) -> str | None:
    value = request.headers.get("authorization", "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _runtime(request: Request) -> CompatRuntime:
    runtime: CompatRuntime = request.app.state.compat
    return runtime


async def _refuse(request: Request, *, history: bool = False) -> Answer | None:
    admission = await _runtime(request).admit(_key(request), _client(request), history=history)
    return admission.refusal()


def _cached_json(request: Request, key: tuple[Any, ...], data: Callable[[], Any]) -> Answer:
    """The JSON of *data*, rendered once per log version, with `Last-Modified`."""
    runtime = _runtime(request)
    rendered = runtime.bodies.get(
        key,
        runtime.service.last_seq,
        runtime.changes.last_event_at,
        lambda: orjson.dumps(data()),
    )
    return rendered.answer(request.headers.get("if-modified-since"))


# -- OpenAPI --------------------------------------------------------------------------------

_ERRORS: dict[int | str, dict[str, Any]] = {
    304: NOT_MODIFIED_SCHEMA,
    401: error_schema("Missing or invalid key"),
    429: error_schema("Too many requests for this key"),
}


_LIST = {"type": "array", "items": {"type": "object"}}
_OBJECT = {"type": "object"}


# -- routes ---------------------------------------------------------------------------------


@router.get(
    "/alerts",
    status_code=200,
    responses={**ok_schema(_LIST, "Regions with alerts of their own"), **_ERRORS},
)
async def alerts(request: Request) -> Response:
    """
    Every region that has an alert of its own now, each with those alerts.
    """
    refused = await _refuse(request)
    if refused is not None:
        return refused.to_response()
    runtime = _runtime(request)
    answer = _cached_json(
        request,
        ("ua_alerts",),
        lambda: ua.regions_with_alerts(runtime.service.active, runtime.registry),
    )
    return answer.to_response()


@router.get(
    "/alerts/status",
    status_code=200,
    responses={**ok_schema(_OBJECT, "The change counter"), **_ERRORS},
)
async def alerts_status(request: Request) -> Response:
    """
    `lastActionIndex`: the sequence number of the newest event. Poll this, fetch on change.
    """
    refused = await _refuse(request)
    if refused is not None:
        return refused.to_response()
    runtime = _runtime(request)
    answer = _cached_json(
        request, ("ua_status",), lambda: {"lastActionIndex": runtime.service.last_seq}
    )
    return answer.to_response()


@router.get(
    "/alerts/regionHistory",
    status_code=200,
    responses={
        **ok_schema(_LIST, "The region's recent alarms"),
        **_ERRORS,
        400: error_schema("regionId is missing"),
        404: error_schema("No region has this id"),
    },
)
async def region_history(
    request: Request, region_id: Annotated[str | None, Query(alias="regionId")] = None
) -> Response:
    """
    The last 25 alerts that covered the region (its own and its ancestors'), newest first.
    """
    refused = await _refuse(request, history=True)
    if refused is not None:
        return refused.to_response()
    if not region_id:
        return error(400, "regionId is required").to_response()
    runtime = _runtime(request)
    region = runtime.registry.find(region_id)
    if region is None:
        return error(404, f"unknown region: {region_id!r}").to_response()
    query = HistoryQuery(
        region_ids={region.id, *runtime.registry.ancestors(region.id)},
        limit=REGION_HISTORY_ALERTS,
    )
    found = await runtime.service.history(query)
    body = ua.region_history(region, found, runtime.registry, runtime.now())
    return json_answer(body).to_response()


def _parse_day(text: str | None) -> date | None:
    if text is None or len(text) != 8 or not (text.isascii() and text.isdigit()):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


@router.get(
    "/alerts/dateHistory",
    status_code=200,
    responses={
        **ok_schema(_LIST, "The day's alarms"),
        **_ERRORS,
        400: error_schema("date is missing or not YYYYMMDD"),
    },
)
async def date_history(
    request: Request, day: Annotated[str | None, Query(alias="date")] = None
) -> Response:
    """
    Every alert that ran during one day (`date=YYYYMMDD`, a Kyiv calendar day), in the
    order they started.
    """
    refused = await _refuse(request, history=True)
    if refused is not None:
        return refused.to_response()
    parsed = _parse_day(day)
    if parsed is None:
        return error(400, f"date must be YYYYMMDD, not {day!r}").to_response()
    start = datetime.combine(parsed, time(), KYIV).astimezone(UTC)
    end = datetime.combine(parsed + timedelta(days=1), time(), KYIV).astimezone(UTC)
    runtime = _runtime(request)
    found = await runtime.service.history(
        HistoryQuery(since=start, until=end, limit=MAX_DAY_ALERTS)
    )
    now = runtime.now()
    body = [ua.alarm(a, runtime.registry, now) for a in sorted(found, key=lambda a: a.id)]
    return json_answer(body).to_response()


@router.get(
    "/alerts/{region_id}",
    status_code=200,
    responses={
        **ok_schema(_LIST, "A one-element list: the region and the alerts covering it"),
        **_ERRORS,
        404: error_schema("No region has this id"),
    },
)
async def region_alerts(region_id: str, request: Request) -> Response:
    """
    One region, always as a one-element list, with every alert that covers it: its own and
    its ancestors', reported under its id, one per type. `activeAlerts: []` is all clear.
    """
    refused = await _refuse(request)
    if refused is not None:
        return refused.to_response()
    runtime = _runtime(request)
    region = runtime.registry.find(region_id)
    if region is None:
        return error(404, f"unknown region: {region_id!r}").to_response()

    def render() -> list[dict[str, Any]]:
        active = runtime.service.active.as_mapping()
        covering = [
            alert
            for rid in (region.id, *runtime.registry.ancestors(region.id))
            for alert_type in AlertType
            if (alert := active.get(AlertKey(rid, alert_type))) is not None
        ]
        changed = runtime.changes.region_changed_at(runtime.registry, region.id)
        return [ua.covering_model(region, covering, changed)]

    return _cached_json(request, ("ua_region", region.id), render).to_response()


@router.get(
    "/regions",
    status_code=200,
    responses={**ok_schema(_OBJECT, "States, districts and communities"), **_ERRORS},
)
async def regions(request: Request) -> Response:
    """
    The region tree: `states`, each with `regionChildIds` down to communities.
    """
    refused = await _refuse(request)
    if refused is not None:
        return refused.to_response()
    runtime = _runtime(request)
    rendered = runtime.bodies.get(
        ("ua_regions",),
        0,
        runtime.started_at,
        lambda: orjson.dumps(ua.regions_tree(runtime.registry)),
    )
    return rendered.answer(request.headers.get("if-modified-since")).to_response()


# -- webhooks -------------------------------------------------------------------------------

_WEBHOOK_BODY = {
    "requestBody": {
        "content": {
            JSON: {
                "schema": {
                    "type": "object",
                    "properties": {"webHookUrl": {"type": "string"}},
                    "required": ["webHookUrl"],
                }
            }
        }
    }
}
_WEBHOOK_OK = ok_schema(
    {"type": "object", "properties": {"webHookUrl": {"type": ["string", "null"]}}},
    "The key's webhook URL",
)
_WEBHOOK_ERRORS: dict[int | str, dict[str, Any]] = {
    400: error_schema("The body or the URL is not acceptable"),
    401: error_schema("Missing or invalid key"),
    403: error_schema("The key may not manage webhooks"),
    429: error_schema("Too many requests for this key"),
    503: error_schema("Webhook delivery is not running"),
}


async def _webhook_caller(request: Request) -> tuple[WebhookRegistry, str] | Answer:
    """The running webhook registry and the caller's token name, or the refusal."""
    admission = await _runtime(request).admit(_key(request), _client(request))
    refused = admission.refusal()
    if refused is not None:
        return refused
    token = admission.token
    if token is None:
        return unauthorized("webhooks belong to a key; send one")
    if not has_permission(token.role, Permission.MANAGE_WEBHOOKS):
        return error(403, f"role {token.role.value!r} may not manage webhooks")
    webhooks: WebhookRegistry | None = getattr(request.app.state, "webhooks", None)
    if webhooks is None:
        return error(503, "webhook delivery is not running")
    return webhooks, token.name


async def _webhook_request(
    request: Request, action: Callable[[WebhookRegistry, str, str], Awaitable[Answer]]
) -> Response:
    caller = await _webhook_caller(request)
    if isinstance(caller, Answer):
        return caller.to_response()
    url = hooks.requested_url(await request.body(), required=True)
    if isinstance(url, Answer):
        return url.to_response()
    assert url is not None
    return (await action(*caller, url)).to_response()


@router.post(
    "/webhook",
    status_code=200,
    responses={**_WEBHOOK_OK, **_WEBHOOK_ERRORS, 409: error_schema("Too many webhooks")},
    openapi_extra=_WEBHOOK_BODY,
)
async def webhook_subscribe(request: Request) -> Response:
    """
    Send every region's alert changes to `webHookUrl` as `AlertRegionModel` bodies; a key
    has one such webhook, and a new URL replaces the old.
    """
    return await _webhook_request(request, hooks.subscribe)


@router.patch(
    "/webhook",
    status_code=200,
    responses={
        **_WEBHOOK_OK,
        **_WEBHOOK_ERRORS,
        404: error_schema("The key has no webhook"),
        409: error_schema("Too many webhooks"),
    },
    openapi_extra=_WEBHOOK_BODY,
)
async def webhook_change(request: Request) -> Response:
    """
    Move the key's webhook to a new `webHookUrl`.
    """
    return await _webhook_request(request, hooks.change)


@router.delete(
    "/webhook",
    status_code=200,
    responses={**_WEBHOOK_OK, **_WEBHOOK_ERRORS, 404: error_schema("The key has no webhook")},
)
async def webhook_unsubscribe(request: Request) -> Response:
    """
    Stop the key's webhook (only the one at `webHookUrl`, when the body names it).
    """
    caller = await _webhook_caller(request)
    if isinstance(caller, Answer):
        return caller.to_response()
    url = hooks.requested_url(await request.body(), required=False)
    if isinstance(url, Answer):
        return url.to_response()
    return (await hooks.unsubscribe(*caller, url)).to_response()


def install(app: FastAPI) -> None:
    """Add the ukrainealarm routes and webhook body format; their state starts with the service."""
    compat_runtime(app)
    app.include_router(router)

    def active() -> ActiveAlerts:
        service: AlertService = app.state.service
        return service.active

    add_body_format(app, hooks.FORMAT, hooks.body_renderer(active))
