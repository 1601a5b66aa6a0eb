"""
The alerts.in.ua API (`/v1/...`, `/v2/iot/...`): a drop-in server for its clients.

The key is `Authorization: Bearer <token>` or `?token=`. The polled GETs are also served
by `FastPathMiddleware` ahead of the router, with the same answers; these routes define
them for OpenAPI and serve them wherever the middleware is not in front.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from tryvoha.compat import alerts_in_ua_answers as answers
from tryvoha.compat.alerts_in_ua_answers import Ask, bearer_key
from tryvoha.compat.answers import NOT_MODIFIED_SCHEMA, error_schema, ok_schema
from tryvoha.compat.fastpath import FastPathMiddleware
from tryvoha.compat.runtime import CompatRuntime, compat_runtime

router = APIRouter(tags=["alerts.in.ua compatible"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    304: NOT_MODIFIED_SCHEMA,
    401: error_schema("Missing, invalid or revoked token"),
    429: error_schema("Too many requests for this token"),
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: error_schema("No location has this UID")}


_ALERTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "alerts": {"type": "array", "items": {"type": "object"}},
        "meta": {"type": "object"},
        "disclaimer": {"type": "string"},
    },
    "required": ["alerts", "meta"],
}
_STRING_SCHEMA: dict[str, Any] = {"type": "string"}


def _runtime(request: Request) -> CompatRuntime:
    runtime: CompatRuntime = request.app.state.compat
    return runtime


def ask_of(request: Request) -> Ask:
    key = bearer_key(request.headers.get("authorization"))
    if key is None:
        key = request.query_params.get("token") or None
    client = request.client.host if request.client else ""
    return Ask(key, request.headers.get("if-modified-since"), client)


@router.get(
    "/v1/alerts/active.json",
    status_code=200,
    responses={**ok_schema(_ALERTS_SCHEMA, "Active alerts"), **_ERRORS},
)
async def active_alerts(request: Request) -> Response:
    """
    Every active alert, all types and levels (`alert_level` red or yellow).
    """
    answer = await answers.respond(_runtime(request), ask_of(request), answers.active)
    return answer.to_response()


@router.get(
    "/v1/regions/{uid}/alerts/{period}.json",
    status_code=200,
    responses={
        **ok_schema(_ALERTS_SCHEMA, "Alerts of the location and its parts over the period"),
        **_ERRORS,
        400: error_schema("The period is not week_ago or month_ago"),
        **_NOT_FOUND,
    },
)
async def alerts_history(uid: str, period: str, request: Request) -> Response:
    """
    Alerts (finished and active) of a location and everything in it over the last week
    (`week_ago`) or 30 days (`month_ago`). Limited more strictly than the other calls.
    """
    answer = await answers.history(_runtime(request), ask_of(request), uid, period)
    return answer.to_response()


def _add_iot_routes(version: int) -> None:
    with_level = version == 2
    codes = "`R` (red) / `Y` (yellow)" if with_level else "`A`"

    @router.get(
        f"/v{version}/iot/active_air_raid_alerts_by_oblast.json",
        status_code=200,
        responses={**ok_schema(_STRING_SCHEMA, "27 status characters"), **_ERRORS},
        name=f"iot_by_oblast_v{version}",
        description=(
            "Air-raid status of the 27 oblast-level units in alerts.in.ua's fixed order: "
            f"{codes} alert, `P` partly, `N` none."
        ),
    )
    async def by_oblast(request: Request) -> Response:
        polled = answers.by_oblast(with_level)
        answer = await answers.respond(_runtime(request), ask_of(request), polled)
        return answer.to_response()

    @router.get(
        f"/v{version}/iot/active_air_raid_alerts.json",
        status_code=200,
        responses={**ok_schema(_STRING_SCHEMA, "One status character per UID"), **_ERRORS},
        name=f"iot_all_v{version}",
        description=(
            "Air-raid status by location UID (character *i* is UID *i*; a space where no "
            f"location has the UID): {codes} alert, `P` partly, `N` none."
        ),
    )
    async def all_uids(request: Request) -> Response:
        polled = answers.all_uids(with_level)
        answer = await answers.respond(_runtime(request), ask_of(request), polled)
        return answer.to_response()

    @router.get(
        f"/v{version}/iot/active_air_raid_alerts/{{uid}}.json",
        status_code=200,
        responses={**ok_schema(_STRING_SCHEMA, "One status character"), **_ERRORS, **_NOT_FOUND},
        name=f"iot_one_v{version}",
        description=f"Air-raid status of one location: {codes} alert, `P` partly, `N` none.",
    )
    async def one_uid(uid: str, request: Request) -> Response:
        polled = answers.one_uid(uid, with_level)
        answer = await answers.respond(_runtime(request), ask_of(request), polled)
        return answer.to_response()


_add_iot_routes(1)
_add_iot_routes(2)


def install(app: FastAPI) -> None:
    """Add the alerts.in.ua routes and their fast path; their state starts with the service."""
    runtime = compat_runtime(app)
    app.include_router(router)
    app.add_middleware(FastPathMiddleware, runtime=runtime)
