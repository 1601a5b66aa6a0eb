"""
History and analytics over HTTP: statistics (`/api/stats/...`), the attacks register
(`/api/attacks/...`) and pictures (`/api/plots/{kind}.png`).

Periods are `since`/`until`: a date (Kyiv local; `until` includes that day) or an ISO time with
offset. Answers are JSON, or CSV with `format=csv`; heavy ones are cached by (question, data
version), and the conditional-GET middleware gives every answer its ETag. The rules behind the
numbers are in docs/history.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from starlette.responses import Response

from tryvoha.api.deps import ReaderDep, RegistryDep
from tryvoha.api.errors import ApiError, error_responses
from tryvoha.core.model import AlertLevel, AlertType, RegionLevel
from tryvoha.core.regions import RegionRegistry
from tryvoha.history import pictures, queries, register
from tryvoha.history.analytics import Analytics
from tryvoha.history.calendar import parse_bound, parse_day, to_ms
from tryvoha.history.dataset import Selection
from tryvoha.history.options import ALL, BEST, Bin, Lang, NightOrder, PlotKind, RankBy
from tryvoha.history.queries import Period
from tryvoha.history.repository import HistoryRepository
from tryvoha.service import utc_now
from tryvoha.storage.base import HistoryQuery

router = APIRouter(tags=["history"])

JSON = "application/json"
CSV = "text/csv; charset=utf-8"
PNG = "image/png"
_TABLE: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON, or CSV with format=csv", "content": {JSON: {}, "text/csv": {}}}
}
_PICTURE: dict[int | str, dict[str, Any]] = {
    200: {"description": "A PNG picture", "content": {PNG: {}}}
}
_SOURCE_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


class AlertLevelFilter(StrEnum):
    ALERT = "alert"
    WARNING = "warning"
    ANY = "any"


def get_analytics(request: Request) -> Analytics:
    analytics: Analytics = request.app.state.analytics
    return analytics


AnalyticsDep = Annotated[Analytics, Depends(get_analytics)]


@dataclass(frozen=True, slots=True)
class Question:
    """The parameters every statistics question shares."""

    since: str | None
    until: str | None
    selection: Selection

    def key(self) -> tuple[Any, ...]:
        return (self.since, self.until, self.selection)


def question(
    since: Annotated[
        str | None, Query(max_length=40, description="A date (Kyiv) or a time with offset.")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=40, description="As `since`; a date includes that day.")
    ] = None,
    type: AlertType = AlertType.AIR_RAID,
    alert_level: Annotated[
        AlertLevelFilter, Query(description="Red alerts, yellow warnings, or both.")
    ] = AlertLevelFilter.ALERT,
    source: Annotated[
        str,
        Query(
            max_length=40,
            pattern=_SOURCE_PATTERN,
            description="best (one source per moment), all, or one source (official, live...).",
        ),
    ] = BEST,
    permanent: Annotated[
        bool, Query(description="Include the Luhansk and Crimea permanent alerts.")
    ] = True,
) -> Question:
    level = None if alert_level is AlertLevelFilter.ANY else AlertLevel(alert_level.value)
    return Question(since, until, Selection(type, level, source, permanent))


QuestionDep = Annotated[Question, Depends(question)]
FormatQuery = Annotated[Format, Query(description="json or csv")]


def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utc_now)
    return clock()


def _period(analytics: Analytics, asked: Question, now: datetime) -> Period:
    try:
        return analytics.period(asked.since, asked.until, now)
    except (ValueError, OverflowError) as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None


def _check_source(analytics: Analytics, source: str) -> None:
    if source in (BEST, ALL):
        return
    known = {s.source for s in analytics.history().sources()}
    if source not in known:
        listed = ", ".join(sorted(known | {BEST, ALL}))
        raise ApiError(422, "invalid_request", f"source: {source!r} is not one of {listed}")


def _region(registry: RegionRegistry, region_id: str) -> str:
    region = registry.find(region_id)
    if region is None:
        raise ApiError(404, "unknown_region", f"unknown region: {region_id!r}")
    return region.id


def _table(answer: dict[str, Any], fmt: Format) -> Response:
    if fmt is Format.CSV:
        return Response(queries.rows_to_csv(answer["rows"]).encode(), media_type=CSV)
    return Response(orjson.dumps(answer), media_type=JSON)


def _stats(
    request: Request,
    analytics: Analytics,
    asked: Question,
    name: str,
    extra: tuple[Any, ...],
    compute: Callable[[Period], dict[str, Any]],
) -> dict[str, Any]:
    _check_source(analytics, asked.selection.source)
    period = _period(analytics, asked, _now(request))
    return analytics.answer((name, period, asked.selection, *extra), lambda: compute(period))


# -- statistics -------------------------------------------------------------------------------

RegionQuery = Annotated[str, Query(max_length=64, description="A region id.")]


@router.get("/api/stats/region/{region_id}", responses={**_TABLE, **error_responses(401, 404, 422)})
def region_stats(
    request: Request,
    region_id: Annotated[str, Path(max_length=64)],
    analytics: AnalyticsDep,
    registry: RegistryDep,
    asked: QuestionDep,
    _reader: ReaderDep,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    One region over a period: alert count, total, mean, median and longest duration, share of
    time under alert, nights with alerts and the longest night. A region's time includes
    alerts on its ancestors (an oblast alert covers its hromadas); overlaps count once.
    """
    rid = _region(registry, region_id)
    answer = _stats(
        request,
        analytics,
        asked,
        "region",
        (rid,),
        lambda p: queries.region_stats(analytics.history(), registry, rid, p, asked.selection),
    )
    return _table(answer, format)


@router.get("/api/stats/rankings", responses={**_TABLE, **error_responses(401, 422)})
def rankings(
    request: Request,
    analytics: AnalyticsDep,
    registry: RegistryDep,
    asked: QuestionDep,
    _reader: ReaderDep,
    level: RegionLevel = RegionLevel.OBLAST,
    by: RankBy = RankBy.TOTAL,
    limit: Annotated[int | None, Query(ge=1, le=5000)] = None,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    Every region of one level ranked by time under alert (or count, longest, nights).
    """
    answer = _stats(
        request,
        analytics,
        asked,
        "rankings",
        (level, by),
        lambda p: queries.rankings(analytics.history(), registry, level, p, asked.selection, by),
    )
    if limit is not None:
        answer = {**answer, "rows": answer["rows"][:limit]}
    return _table(answer, format)


@router.get("/api/stats/overlap", responses={**_TABLE, **error_responses(401, 404, 422)})
def overlap(
    request: Request,
    analytics: AnalyticsDep,
    registry: RegistryDep,
    asked: QuestionDep,
    _reader: ReaderDep,
    level: RegionLevel = RegionLevel.OBLAST,
    regions: Annotated[
        str | None, Query(max_length=2000, description="Comma-separated region ids.")
    ] = None,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    How long k regions were under alert at once, and how long all of them were (by default
    all regions of the level that the data reports on: the whole country).
    """
    chosen = None
    if regions is not None:
        chosen = [_region(registry, r.strip()) for r in regions.split(",") if r.strip()]
        if not chosen:
            raise ApiError(422, "invalid_request", "regions: no region ids given")
    answer = _stats(
        request,
        analytics,
        asked,
        "overlap",
        (level, tuple(chosen) if chosen else None),
        lambda p: queries.overlap_stats(
            analytics.history(), registry, level, p, asked.selection, chosen
        ),
    )
    return _table(answer, format)


@router.get("/api/stats/hourly", responses={**_TABLE, **error_responses(401, 404, 422)})
def hourly(
    request: Request,
    region: RegionQuery,
    analytics: AnalyticsDep,
    registry: RegistryDep,
    asked: QuestionDep,
    _reader: ReaderDep,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    Time under alert, its share, and alerts begun, per Kyiv local hour of the day.
    """
    rid = _region(registry, region)
    answer = _stats(
        request,
        analytics,
        asked,
        "hourly",
        (rid,),
        lambda p: queries.hourly(analytics.history(), registry, rid, p, asked.selection),
    )
    return _table(answer, format)


@router.get("/api/stats/monthly", responses={**_TABLE, **error_responses(401, 404, 422)})
def monthly(
    request: Request,
    region: RegionQuery,
    analytics: AnalyticsDep,
    registry: RegistryDep,
    asked: QuestionDep,
    _reader: ReaderDep,
    bin: Annotated[Bin, Query(description="month, week (ISO, from Monday) or day")] = Bin.MONTH,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    Alert-hours per Kyiv local month, week or day.
    """
    rid = _region(registry, region)
    answer = _stats(
        request,
        analytics,
        asked,
        "calendar",
        (rid, bin),
        lambda p: queries.calendar(analytics.history(), registry, rid, p, asked.selection, bin),
    )
    return _table(answer, format)


@router.get("/api/stats/nights", responses={**_TABLE, **error_responses(401, 404, 422)})
def nights(
    request: Request,
    region: RegionQuery,
    analytics: AnalyticsDep,
    registry: RegistryDep,
    asked: QuestionDep,
    _reader: ReaderDep,
    order: NightOrder = NightOrder.DATE,
    limit: Annotated[int | None, Query(ge=1, le=10000)] = None,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    Time under alert in each night (18:00-06:00 Kyiv time, named by the date it ends);
    `order=longest` puts the longest first.
    """
    rid = _region(registry, region)
    answer = _stats(
        request,
        analytics,
        asked,
        "nights",
        (rid, order),
        lambda p: queries.night_stats(
            analytics.history(), registry, rid, p, asked.selection, order
        ),
    )
    if limit is not None:
        answer = {**answer, "rows": answer["rows"][:limit]}
    return _table(answer, format)


# -- attacks ----------------------------------------------------------------------------------

DayPath = Annotated[str, Path(max_length=10, description="YYYY-MM-DD")]


def _day(text: str) -> str:
    try:
        return parse_day(text).isoformat()
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"date: {exc}") from None


@router.get("/api/attacks/nights/{date}", responses={**_TABLE, **error_responses(401, 422)})
def attack_night(
    date: DayPath,
    analytics: AnalyticsDep,
    _reader: ReaderDep,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    What was launched and destroyed, by weapon class, on one attack day: 18:00 Kyiv time the
    evening before to 18:00. Whole-day (date-only) reports are listed apart, not added.
    """
    day = _day(date)
    answer = analytics.answer(
        ("attack-night", day), lambda: register.night(analytics.attacks(), day)
    )
    return _table(answer, format)


@router.get("/api/attacks/records", responses={**_TABLE, **error_responses(401, 422)})
def attack_records(
    analytics: AnalyticsDep,
    _reader: ReaderDep,
    by: Annotated[
        str, Query(pattern=r"^(launched|drones_launched|missiles_launched)$")
    ] = "launched",
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    The largest attack days by weapons launched (all, drones or missiles).
    """
    answer = analytics.answer(
        ("attack-records", by, limit), lambda: register.records(analytics.attacks(), by, limit)
    )
    return _table(answer, format)


@router.get("/api/attacks/during", responses={**_TABLE, **error_responses(401, 422)})
def attacks_during(
    since: Annotated[str, Query(max_length=40)],
    until: Annotated[str, Query(max_length=40)],
    analytics: AnalyticsDep,
    _reader: ReaderDep,
    whole_day: bool = False,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    The attacks whose time range overlaps a period: what was launched while it lasted.
    """
    try:
        lo, hi = parse_bound(since, end=False), parse_bound(until, end=True)
    except (ValueError, OverflowError) as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    if lo > hi:
        raise ApiError(422, "invalid_request", "since is after until")
    answer = register.during(analytics.attacks(), lo, hi, whole_day=whole_day)
    return _table(answer, format)


@router.get(
    "/api/attacks/during/{alert_id}", responses={**_TABLE, **error_responses(401, 404, 422)}
)
def attacks_during_alert(
    request: Request,
    alert_id: Annotated[int, Path(ge=1, le=2**62)],
    analytics: AnalyticsDep,
    _reader: ReaderDep,
    whole_day: bool = False,
    format: FormatQuery = Format.JSON,
) -> Response:
    """
    What was launched while one of this server's alerts lasted (until now if it still does).
    """
    found = analytics.store.history(HistoryQuery(before_id=alert_id + 1, limit=1))
    if not found or found[0].id != alert_id:
        raise ApiError(404, "not_found", f"no alert with id {alert_id}")
    alert = found[0]
    lo = to_ms(alert.started_at)
    hi = to_ms(alert.finished_at or _now(request))
    answer = register.during(analytics.attacks(), lo, hi, whole_day=whole_day)
    answer["alert"] = {"id": alert.id, "region_id": alert.region_id, "type": alert.type.value}
    return _table(answer, format)


# -- pictures ---------------------------------------------------------------------------------


@router.get("/api/plots/{kind}.png", responses={**_PICTURE, **error_responses(401, 404, 422)})
def plot(
    request: Request,
    kind: PlotKind,
    analytics: AnalyticsDep,
    registry: RegistryDep,
    asked: QuestionDep,
    _reader: ReaderDep,
    region: Annotated[str | None, Query(max_length=64)] = None,
    date: Annotated[str | None, Query(max_length=10, description="timeline: the night")] = None,
    level: RegionLevel = RegionLevel.OBLAST,
    bin: Bin = Bin.MONTH,
    lang: Lang = Lang.UK,
) -> Response:
    """
    A PNG: `timeline` (a night across oblasts, `date=`), `monthly` and `hourly` (`region=`),
    `choropleth` (alert hours per region of `level`).
    """
    _check_source(analytics, asked.selection.source)
    selection = asked.selection
    if kind is PlotKind.TIMELINE:
        if date is None:
            raise ApiError(422, "invalid_request", "date: required for a timeline")
        day = _day(date)
        key: tuple[Any, ...] = (kind, day, selection, lang)
        png = analytics.answer(key, lambda: pictures.timeline_png(analytics, day, selection, lang))
        return Response(png, media_type=PNG)
    period = _period(analytics, asked, _now(request))
    if kind is PlotKind.CHOROPLETH:
        key = (kind, period, selection, level, lang)
        png = analytics.answer(
            key, lambda: pictures.choropleth_png(analytics, period, selection, lang, level)
        )
        return Response(png, media_type=PNG)
    if region is None:
        raise ApiError(422, "invalid_request", f"region: required for the {kind.value} plot")
    rid = _region(registry, region)
    if kind is PlotKind.MONTHLY:
        key = (kind, rid, period, selection, bin, lang)
        png = analytics.answer(
            key, lambda: pictures.monthly_png(analytics, rid, period, selection, lang, bin)
        )
    else:
        key = (kind, rid, period, selection, lang)
        png = analytics.answer(
            key, lambda: pictures.hourly_png(analytics, rid, period, selection, lang)
        )
    return Response(png, media_type=PNG)


# -- wiring -----------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """
    Add the history routes; the analytics start with the service, on its database.

    A repository already set as `app.state.history_repository` is used instead (tests).
    """
    app.include_router(router)

    async def start(app: FastAPI) -> None:
        service = app.state.service
        repository = getattr(app.state, "history_repository", None)
        owned = repository is None
        if repository is None:
            repository = HistoryRepository.for_store(service.store)
        app.state.history_repository_owned = owned
        app.state.history_repository = repository
        app.state.analytics = Analytics(
            repository, service.store, app.state.registry, live_version=lambda: service.last_seq
        )

    async def stop(app: FastAPI) -> None:
        if app.state.history_repository_owned:
            app.state.history_repository.close()
            app.state.history_repository = None

    app.state.on_start.append(start)
    app.state.on_stop.append(stop)
