"""
`GET /api/replay`: every alert interval of a time window, for the map's timeline.

Intervals come from the server's own log (the `alerts` projection: each alert with its final
level) and from imported history (`tryvoha history import`, always level `alert`); the page
draws the state at any moment of the window from them. Without `since`/`until` the window
is the last day of the log's own events: what this server did most recently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from tryvoha.api.deps import ReaderDep, ServiceDep
from tryvoha.api.errors import ApiError, error_responses
from tryvoha.api.routes.native import parse_time_param
from tryvoha.core.codec import format_time
from tryvoha.core.model import AlertLevel, AlertType
from tryvoha.history.schema import history_alerts
from tryvoha.service import AlertService, utc_now
from tryvoha.storage.base import HistoryQuery, Store

router = APIRouter(tags=["map"])

DEFAULT_SPAN = timedelta(hours=24)
MAX_SPAN = timedelta(days=31)
MAX_INTERVALS = 50_000
_PAGE = 1000
_MARGIN = timedelta(minutes=1)
"""Room before the first and after the last event, so the timeline starts and ends calm."""


class IntervalOut(BaseModel):
    region_id: str
    type: AlertType
    level: AlertLevel
    started_at: str
    finished_at: str | None = Field(description="null while the alert is still active")
    source: str = Field(description="`live` (this server's log) or the imported source")


class LogSpanOut(BaseModel):
    first_at: str
    last_at: str
    last_seq: int


class ReplayOut(BaseModel):
    since: str
    until: str
    type: AlertType | None
    log: LogSpanOut | None = Field(description="The times of the log's first and last events")
    intervals: list[IntervalOut]
    truncated: bool = Field(description=f"true when over {MAX_INTERVALS} intervals matched")


async def log_span(service: AlertService) -> tuple[datetime, datetime] | None:
    last_seq = service.last_seq
    if last_seq == 0:
        return None
    first = await service.read_events(0, 1)
    last = await service.read_events(last_seq - 1, 1)
    if not first or not last:
        return None
    return first[0].at, last[0].at


def choose_window(
    since: datetime | None,
    until: datetime | None,
    span: tuple[datetime, datetime] | None,
    now: datetime,
) -> tuple[datetime, datetime]:
    """
    The window asked for, completed: a missing end is a day from the other one; with
    neither, the last day of the log's events (or of the clock when the log is empty).
    """
    if since is None and until is None:
        if span is None:
            return now - DEFAULT_SPAN, now
        first, last = span
        return max(first, last - DEFAULT_SPAN) - _MARGIN, last + _MARGIN
    if since is None:
        assert until is not None
        return until - DEFAULT_SPAN, until
    if until is None:
        return since, since + DEFAULT_SPAN
    return since, until


async def live_intervals(
    service: AlertService, since: datetime, until: datetime, alert_type: AlertType | None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    before: int | None = None
    while len(found) <= MAX_INTERVALS:
        query = HistoryQuery(
            type=alert_type, since=since, until=until, before_id=before, limit=_PAGE
        )
        page = await service.history(query)
        for alert in page:
            found.append(
                {
                    "region_id": alert.region_id,
                    "type": alert.type.value,
                    "level": alert.level.value,
                    "started_at": format_time(alert.started_at),
                    "finished_at": None
                    if alert.finished_at is None
                    else format_time(alert.finished_at),
                    "source": "live",
                }
            )
        if len(page) < _PAGE:
            break
        before = page[-1].id
    return found


def imported_intervals(
    store: Store, since: datetime, until: datetime, alert_type: AlertType | None, limit: int
) -> list[dict[str, Any]]:
    """Intervals of `tryvoha history import` overlapping the window; none without a database."""
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        return []
    table = history_alerts
    since_ms = int(since.timestamp() * 1000)
    until_ms = int(until.timestamp() * 1000)
    stmt = (
        select(
            table.c.region_id, table.c.type, table.c.started_ms, table.c.finished_ms, table.c.source
        )
        .where(table.c.started_ms < until_ms, table.c.finished_ms > since_ms)
        .order_by(table.c.started_ms)
        .limit(limit)
    )
    if alert_type is not None:
        stmt = stmt.where(table.c.type == alert_type.value)
    try:
        with engine.connect() as connection:
            rows = connection.execute(stmt).all()
    except SQLAlchemyError:
        # A database migrated before imported history existed has nothing to add.
        return []
    return [
        {
            "region_id": region_id,
            "type": kind,
            "level": AlertLevel.ALERT.value,
            "started_at": format_time(datetime.fromtimestamp(started / 1000, UTC)),
            "finished_at": format_time(datetime.fromtimestamp(finished / 1000, UTC)),
            "source": source,
        }
        for region_id, kind, started, finished, source in rows
    ]


@router.get("/api/replay", response_model=ReplayOut, responses=error_responses(401, 422))
async def replay(
    request: Request,
    service: ServiceDep,
    _reader: ReaderDep,
    since: Annotated[str | None, Query(max_length=40, description="window start")] = None,
    until: Annotated[str | None, Query(max_length=40, description="window end")] = None,
    type: AlertType | None = None,
) -> Response:
    """
    The alert intervals overlapping a window (at most 31 days), from the log and imported
    history. Without `since` and `until`: the last day of the log's own events.
    """
    span = await log_span(service)
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utc_now)
    start, end = choose_window(
        parse_time_param("since", since), parse_time_param("until", until), span, clock()
    )
    if end <= start:
        raise ApiError(422, "invalid_request", "until: must be later than since")
    if end - start > MAX_SPAN:
        raise ApiError(422, "invalid_request", f"the window is longer than {MAX_SPAN.days} days")
    intervals = await live_intervals(service, start, end, type)
    room = MAX_INTERVALS + 1 - len(intervals)
    if room > 0:
        intervals += await asyncio.to_thread(
            imported_intervals, service.store, start, end, type, room
        )
    truncated = len(intervals) > MAX_INTERVALS
    body = {
        "since": format_time(start),
        "until": format_time(end),
        "type": type.value if type else None,
        "log": None
        if span is None
        else {
            "first_at": format_time(span[0]),
            "last_at": format_time(span[1]),
            "last_seq": service.last_seq,
        },
        "intervals": intervals[:MAX_INTERVALS],
        "truncated": truncated,
    }
    return Response(orjson.dumps(body), media_type="application/json")
