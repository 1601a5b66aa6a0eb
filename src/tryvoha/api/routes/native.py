"""
The native REST API (DESIGN §4): regions, alerts, commands, the event log, health.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from shapely.geometry import mapping
from starlette.responses import Response

from tryvoha.api.deps import ReaderDep, RegistryDep, ServiceDep, WriterDep
from tryvoha.api.errors import ApiError, error_responses
from tryvoha.api.middleware import etag_matches
from tryvoha.api.schemas import (
    ActiveAlertsOut,
    CommandOut,
    EventsOut,
    Health,
    HistoryOut,
    LiftIn,
    LocationOut,
    RaiseIn,
    RegionOut,
    RegionsOut,
    RegionStatusOut,
)
from tryvoha.core.auth import Role, TokenRecord, out_of_scope
from tryvoha.core.codec import alert_to_dict, event_to_dict, parse_time
from tryvoha.core.lifecycle import Command, Lift, Raise
from tryvoha.core.model import (
    ENGINE_SOURCE,
    AlertType,
    Region,
    RegionLevel,
    Threat,
)
from tryvoha.core.regions import RegionRegistry
from tryvoha.core.status import region_status
from tryvoha.service import AlertService, IdempotencyKey, request_hash
from tryvoha.storage.base import HistoryQuery

router = APIRouter()

JSON = "application/json"


def region_to_dict(
    region: Region, registry: RegionRegistry, geometry: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": region.id,
        "level": region.level.value,
        "parent_id": region.parent_id,
        "name_uk": region.name_uk,
        "name_en": region.name_en,
        "katottg": region.katottg,
    }
    if geometry:
        shape = registry.geometry(region.id)
        data["geometry"] = None if shape is None else mapping(shape)
    return data


def _json(data: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status_code, media_type=JSON, headers=headers)


def _get_region(registry: RegionRegistry, region_id: str) -> Region:
    region = registry.find(region_id)
    if region is None:
        raise ApiError(404, "unknown_region", f"unknown region: {region_id!r}")
    return region


def _query_region(registry: RegionRegistry, name: str, region_id: str) -> Region:
    region = registry.find(region_id)
    if region is None:
        raise ApiError(422, "unknown_region", f"{name}: unknown region: {region_id!r}")
    return region


def parse_time_param(name: str, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise ApiError(
            422, "invalid_request", f"{name}: not an ISO 8601 time with offset: {value!r}"
        ) from None


# -- regions --------------------------------------------------------------------------


@router.get("/api/regions", response_model=RegionsOut, responses=error_responses(401, 422))
async def list_regions(
    registry: RegistryDep,
    _reader: ReaderDep,
    level: RegionLevel | None = None,
    parent: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="name search")] = None,
) -> Response:
    """
    List regions, optionally by level, by parent, or matching a name (either language).
    """
    if parent is not None:
        regions: list[Region] = list(
            registry.children(_query_region(registry, "parent", parent).id)
        )
    elif q is not None:
        regions = registry.search(q)
    else:
        regions = list(registry)
    if level is not None:
        regions = [r for r in regions if r.level is level]
    return _json({"regions": [region_to_dict(r, registry) for r in regions]})


@router.get("/api/regions/at", response_model=LocationOut, responses=error_responses(401, 422))
async def region_at(
    registry: RegistryDep,
    _reader: ReaderDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> Response:
    """
    The hromada, raion and oblast containing a point; nulls when no region does.
    """
    location = registry.locate(lat, lon)

    def one(region: Region | None) -> dict[str, Any] | None:
        return None if region is None else region_to_dict(region, registry)

    return _json(
        {
            "lat": lat,
            "lon": lon,
            "hromada": one(location.hromada) if location else None,
            "raion": one(location.raion) if location else None,
            "oblast": one(location.oblast) if location else None,
        }
    )


@router.get(
    "/api/regions/{region_id}", response_model=RegionOut, responses=error_responses(401, 404)
)
async def get_region(
    region_id: str, registry: RegistryDep, _reader: ReaderDep, geometry: bool = False
) -> Response:
    """
    One region; `?geometry=true` adds its boundary as GeoJSON.
    """
    return _json(region_to_dict(_get_region(registry, region_id), registry, geometry))


@router.get(
    "/api/regions/{region_id}/status",
    response_model=RegionStatusOut,
    responses=error_responses(401, 404),
)
async def get_region_status(
    region_id: str,
    registry: RegistryDep,
    service: ServiceDep,
    _reader: ReaderDep,
    type: AlertType | None = None,
) -> Response:
    """
    The region's status per alert type: active, partial or none, and the covering alerts.
    """
    region = _get_region(registry, region_id)
    alerts = list(service.active)
    statuses = []
    for alert_type in [type] if type else list(AlertType):
        view = region_status(registry, alerts, region.id, alert_type)
        statuses.append(
            {
                "type": alert_type.value,
                "status": view.status.value,
                "level": view.level.value if view.level else None,
                "alerts": [alert_to_dict(a) for a in view.covering],
            }
        )
    return _json({"region": region_to_dict(region, registry), "statuses": statuses})


# -- alerts ---------------------------------------------------------------------------


@router.get(
    "/api/alerts/active",
    response_model=ActiveAlertsOut,
    responses=error_responses(401, 422),
)
async def active_alerts(
    request: Request,
    service: ServiceDep,
    registry: RegistryDep,
    _reader: ReaderDep,
    type: AlertType | None = None,
    region: Annotated[
        str | None,
        Query(max_length=64, description="that region, its ancestors and its descendants"),
    ] = None,
) -> Response:
    """
    Alerts active now, oldest first, with the log position they reflect.
    """
    if region is not None:
        _query_region(registry, "region", region)
    status, body, headers = active_answer(
        request.app, type, region, request.headers.get("if-none-match")
    )
    if status == 304:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=JSON, headers=headers)


def active_answer(
    app: Any, type: AlertType | None, region: str | None, if_none_match: str | None
) -> tuple[int, bytes, dict[str, str]]:
    """
    The answer to `GET /api/alerts/active`, rendered once per log version and filter.

    Shared with the HTTP protocol's shortcut, which gives it to unauthenticated polls
    without a trip through the ASGI stack.
    """
    service: AlertService = app.state.service
    registry: RegionRegistry = app.state.registry
    version = service.last_seq
    etag = f'"active-{version}-{type or ""}-{region or ""}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return 304, b"", headers
    cache: dict[str, bytes] = app.state.active_cache
    body = cache.get(etag)
    if body is None:
        wanted = registry.concerning([region]) if region else None
        alerts = [
            alert_to_dict(a)
            for a in service.active
            if (type is None or a.type is type) and (wanted is None or a.region_id in wanted)
        ]
        body = orjson.dumps({"last_seq": version, "alerts": alerts})
        if len(cache) > 256:
            cache.clear()
        cache[etag] = body
    return 200, body, headers


@router.get("/api/alerts", response_model=HistoryOut, responses=error_responses(401, 422))
async def alert_history(
    service: ServiceDep,
    registry: RegistryDep,
    _reader: ReaderDep,
    region: Annotated[str | None, Query(max_length=64)] = None,
    type: AlertType | None = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    covering: bool = False,
) -> Response:
    """
    Alert history (active and finished), newest first, in pages: pass `next_cursor` back
    as `cursor`. `covering=true` adds alerts on the region's ancestors.
    """
    region_ids = None
    if region is not None:
        found = _query_region(registry, "region", region)
        region_ids = {found.id, *(registry.ancestors(found.id) if covering else ())}
    before_id = None
    if cursor is not None:
        if not cursor.isdigit():
            raise ApiError(422, "invalid_request", f"cursor: not a cursor: {cursor!r}")
        before_id = int(cursor)
    query = HistoryQuery(
        region_ids=region_ids,
        type=type,
        since=parse_time_param("since", since),
        until=parse_time_param("until", until),
        before_id=before_id,
        limit=limit,
    )
    alerts = await service.history(query)
    next_cursor = str(alerts[-1].id) if len(alerts) == limit else None
    return _json({"alerts": [alert_to_dict(a) for a in alerts], "next_cursor": next_cursor})


def _check_scope(token: TokenRecord, registry: RegionRegistry, region_ids: list[str]) -> None:
    for region_id in region_ids:
        if region_id not in registry:
            raise ApiError(422, "unknown_region", f"unknown region: {region_id!r}")
    outside = out_of_scope(token, region_ids, registry)
    if outside:
        listed = ", ".join(repr(r) for r in outside[:10])
        raise ApiError(403, "forbidden", f"token {token.name!r} may not act on {listed}")


def _source(token: TokenRecord) -> str:
    return ENGINE_SOURCE if token.role is Role.ENGINE else token.name


async def _run(
    request: Request,
    service: AlertService,
    command: Command,
    payload: dict[str, Any],
    idempotency_key: str | None,
) -> Response:
    metrics = request.app.state.metrics
    kind = "raise" if isinstance(command, Raise) else "lift"
    key = None
    if idempotency_key is not None:
        key = IdempotencyKey(idempotency_key, request_hash({"command": kind, **payload}))
    started = time.perf_counter()
    try:
        result = await service.execute(command, key)
    except Exception:
        metrics.commands.labels(kind, "error").inc()
        raise
    metrics.command_seconds.observe(time.perf_counter() - started)
    metrics.commands.labels(kind, "replayed" if result.replayed else "ok").inc()
    headers = {"Idempotency-Replayed": "true"} if result.replayed else None
    return Response(result.body, status_code=result.status_code, media_type=JSON, headers=headers)


IdempotencyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]+$")
]


@router.post(
    "/api/alerts",
    status_code=201,
    response_model=CommandOut,
    responses={200: {"model": CommandOut}, **error_responses(400, 401, 403, 413, 422, 503)},
)
async def raise_alerts(
    body: RaiseIn,
    request: Request,
    service: ServiceDep,
    registry: RegistryDep,
    token: WriterDep,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    """
    Raise (or update) an alert of one type on one or more regions, all or nothing.
    Answers 201 when something was raised, 200 when it only updated or changed nothing.
    """
    _check_scope(token, registry, body.regions)
    threat = None
    if body.threat is not None:
        threat = Threat(
            threat_class=body.threat.threat_class,
            expected_arrival=parse_time_param(
                "threat.expected_arrival", body.threat.expected_arrival
            ),
            track_id=body.threat.track_id,
        )
    command = Raise(
        region_ids=tuple(body.regions),
        type=body.type,
        actor=token.name,
        source=_source(token),
        level=body.level,
        note=body.note,
        threat=threat,
    )
    payload = body.model_dump(mode="json", by_alias=True)
    return await _run(request, service, command, payload, idempotency_key)


@router.post(
    "/api/alerts/lift",
    response_model=CommandOut,
    responses=error_responses(400, 401, 403, 413, 422, 503),
)
async def lift_alerts(
    body: LiftIn,
    request: Request,
    service: ServiceDep,
    registry: RegistryDep,
    token: WriterDep,
    idempotency_key: IdempotencyHeader = None,
) -> Response:
    """
    Lift an alert type on one or more regions. Lifting what is not raised changes nothing
    and says so; an oblast lift leaves its children's own alerts in place.
    """
    _check_scope(token, registry, body.regions)
    command = Lift(
        region_ids=tuple(body.regions), type=body.type, actor=token.name, source=_source(token)
    )
    payload = body.model_dump(mode="json")
    return await _run(request, service, command, payload, idempotency_key)


# -- the log and the process ------------------------------------------------------------


@router.get("/api/events", response_model=EventsOut, responses=error_responses(401, 422))
async def events(
    service: ServiceDep,
    _reader: ReaderDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """
    The event log from `after` (exclusive), in order: every change, with who caused it.
    """
    found = await service.read_events(after, limit)
    return _json({"events": [event_to_dict(e) for e in found], "last_seq": service.last_seq})


@router.get("/healthz", response_model=Health)
async def healthz(service: ServiceDep) -> Response:
    """
    Liveness and the log position this node has applied.
    """
    return _json(
        {"status": "ok", "last_seq": service.last_seq, "active_alerts": len(service.active)}
    )
