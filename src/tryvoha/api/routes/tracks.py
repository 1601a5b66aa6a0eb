"""
Threat tracks in, engine decisions out: `POST /api/tracks` and the engine's runner.

Reports arrive in batches (over HTTP, and on the NATS subject `tryvoha.tracks` when the bus
is NATS); each is checked on its own, the good ones are applied, and every report gets an
answer. The runner owns one `WarningEngine`. It ticks once a second, and at once after
each applied batch so a report turns into an alert within milliseconds, and sends the
engine's decisions through `AlertService.execute` as `Raise`/`Lift` commands with source
`engine`: the same path as operators', so the lifecycle keeps operators' alerts safe from
the engine's lifts.

Restarts: the engine keeps no state of its own. On start it adopts the engine alerts
active in the log and holds them for `adopt_hold_s`; fresh reports confirm the ones still
needed and the rest are lifted. An alert an operator lifts or takes over is released: the
engine does not fight a person, and stays quiet there until its threat has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, FastAPI, Request
from prometheus_client import Counter, Gauge, Histogram
from pydantic import BaseModel, Field
from starlette.responses import Response

from tryvoha.api.deps import require
from tryvoha.api.errors import ApiError, error_responses
from tryvoha.core.auth import Permission, TokenRecord
from tryvoha.core.engine import (
    EngineConfig,
    EngineDecision,
    Rejection,
    TrackReport,
    WarningEngine,
    parse_report,
)
from tryvoha.core.errors import TryvohaError
from tryvoha.core.lifecycle import Lift, Raise
from tryvoha.core.model import ENGINE_SOURCE, AlertType, Event, EventKind, Threat
from tryvoha.service import AlertService, ServiceUnavailable, utc_now

log = logging.getLogger(__name__)

router = APIRouter()
NATS_SUBJECT = "tryvoha.tracks"
MAX_REPORTS = 5000
ENGINE_ACTOR = "engine"
"""The audit-trail name of the engine's own commands."""


class TrackResult(BaseModel):
    index: int
    track_id: str | None
    status: str = Field(description="accepted or rejected")
    reasons: list[str] = Field(default_factory=list)


class TracksOut(BaseModel):
    accepted: int
    rejected: int
    results: list[TrackResult]


REPORT_EXAMPLE = {
    "reports": [
        {
            "track_id": "T0042",
            "class": "shahed",
            "lat": 50.91,
            "lon": 34.8,
            "time": "2025-07-03T21:22:00.000Z",
            "precision_m": 2000,
            "status": "active",
            "course_deg": 250.0,
            "speed_mps": 45.0,
        }
    ]
}


class EngineRunner:
    """
    The engine of one process: intake, ticking, and sending decisions as commands.
    """

    def __init__(self, app: FastAPI, config: EngineConfig) -> None:
        self.app = app
        self.config = config
        self.tick_seconds = 1.0
        self.engine: WarningEngine | None = None
        self.service: AlertService | None = None
        self._clock = utc_now
        # Engine work is CPU-bound numpy/shapely; one thread keeps it off the event loop and
        # in order.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="tryvoha-engine")
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._released: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._nats: Any = None
        self._nats_task: asyncio.Task[None] | None = None
        self._metrics = _EngineMetrics(app)

    # -- life cycle --------------------------------------------------------------------

    async def start(self, app: FastAPI) -> None:
        # A fresh executor per start: an app's lifespan may run more than once.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="tryvoha-engine")
        self.service = app.state.service
        self._clock = app.state.clock
        self.service.add_listener(self._observe)
        adopted = [
            a.region_id
            for a in self.service.active
            if a.source == ENGINE_SOURCE and a.type is AlertType.AIR_RAID
        ]
        if adopted:
            engine = await self._ensure_engine()
            foreign = await self._call(engine.adopt, adopted, self._clock())
            if foreign:
                await self._execute(
                    Lift(tuple(foreign), AlertType.AIR_RAID, ENGINE_ACTOR, ENGINE_SOURCE)
                )
        self._task = asyncio.create_task(self._run(), name="tryvoha-engine")
        bus_url = app.state.settings.bus_url
        if bus_url.startswith("nats://"):
            self._nats_task = asyncio.create_task(self._listen_nats(bus_url), name="tryvoha-tracks")

    async def stop(self, app: FastAPI) -> None:
        for task in (self._task, self._nats_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._nats is not None:
            with contextlib.suppress(Exception):
                await self._nats.close()
        self._executor.shutdown(wait=True)

    async def _ensure_engine(self) -> WarningEngine:
        if self.engine is None:
            from tryvoha.sim.engine_setup import engine_units

            registry = self.app.state.registry
            units = await self._call(engine_units, registry, self.config)
            if self.engine is None:
                self.engine = WarningEngine(units, self.config)
        return self.engine

    async def _call(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    # -- intake ------------------------------------------------------------------------

    async def submit(self, items: Sequence[Any]) -> list[dict[str, Any]]:
        """Check and apply a batch of raw reports; one result per report, in order."""
        engine = await self._ensure_engine()
        now = self._clock()
        checked = [parse_report(item, now=now, config=self.config) for item in items]
        valid = [(i, r) for i, r in enumerate(checked) if isinstance(r, TrackReport)]
        async with self._lock:
            outcomes = await self._call(engine.ingest, [r for _, r in valid], now)
        results: list[dict[str, Any]] = []
        ignored = dict(zip((i for i, _ in valid), outcomes, strict=True))
        for index, (item, report) in enumerate(zip(items, checked, strict=True)):
            track_id = item.get("track_id") if isinstance(item, dict) else None
            reasons: list[str] = []
            if isinstance(report, Rejection):
                reasons = list(report.reasons)
            elif ignored.get(index) is not None:
                reasons = [str(ignored[index])]
            results.append(
                {
                    "index": index,
                    "track_id": track_id if isinstance(track_id, str) else None,
                    "status": "rejected" if reasons else "accepted",
                    "reasons": reasons,
                }
            )
        accepted = sum(r["status"] == "accepted" for r in results)
        self._metrics.reports.labels("accepted").inc(accepted)
        self._metrics.reports.labels("rejected").inc(len(results) - accepted)
        if accepted:
            self._wake.set()
        return results

    async def _listen_nats(self, url: str) -> None:
        import nats

        while self._nats is None:
            try:
                self._nats = await nats.connect(url, connect_timeout=2, name="tryvoha-engine")
            except Exception as exc:  # any connection failure: keep serving, retry
                log.warning("track intake: cannot reach NATS at %s (%s); retrying", url, exc)
                await asyncio.sleep(5)
        await self._nats.subscribe(NATS_SUBJECT, cb=self._on_nats_message)
        await asyncio.Event().wait()

    async def _on_nats_message(self, message: Any) -> None:
        try:
            data = orjson.loads(message.data)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            items = data.get("reports", [data])
        elif isinstance(data, list):
            items = data
        else:
            items = [data]
        results = await self.submit(items if isinstance(items, list) else [items])
        if message.reply:
            await self._nats.publish(message.reply, orjson.dumps({"results": results}))

    # -- ticking -----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick_seconds)
            self._wake.clear()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("engine tick failed")

    async def tick(self, now: datetime | None = None) -> EngineDecision | None:
        """One engine step at *now* (the clock's time when None), its commands executed."""
        if self.engine is None:
            return None
        engine = self.engine
        at = now or self._clock()
        async with self._lock:
            released, self._released = self._released, []
            started = time.perf_counter()
            if released:
                await self._call(engine.release, released)
            decision: EngineDecision = await self._call(engine.tick, at)
            self._metrics.tick_seconds.observe(time.perf_counter() - started)
            self._metrics.tracks.set(engine.track_count)
            if not decision.is_empty:
                await self._apply(decision)
        return decision

    async def _apply(self, decision: EngineDecision) -> None:
        by_threat: dict[Threat | None, list[str]] = {}
        for change in (*decision.raised, *decision.updated):
            by_threat.setdefault(change.threat, []).append(change.region_id)
        commands: list[Raise | Lift] = [
            Raise(tuple(ids), AlertType.AIR_RAID, ENGINE_ACTOR, ENGINE_SOURCE, threat=threat)
            for threat, ids in by_threat.items()
        ]
        if decision.lifted:
            commands.append(Lift(decision.lifted, AlertType.AIR_RAID, ENGINE_ACTOR, ENGINE_SOURCE))
        # Sent together so the service commits them in one durable transaction.
        await asyncio.gather(*(self._execute(c) for c in commands))

    async def _execute(self, command: Raise | Lift) -> None:
        assert self.service is not None
        try:
            await self.service.execute(command)
            self._metrics.commands.labels("ok").inc()
        except (ServiceUnavailable, TryvohaError) as exc:
            self._metrics.commands.labels("failed").inc()
            log.error(
                "engine %s of %d regions failed: %s",
                type(command).__name__.lower(),
                len(command.region_ids),
                exc,
            )

    def _observe(self, events: Sequence[Event]) -> None:
        """Alerts someone else lifted or took over are released by the engine."""
        for event in events:
            if event.actor == ENGINE_ACTOR or event.alert.type is not AlertType.AIR_RAID:
                continue
            if event.kind is EventKind.LIFTED or "source" in event.changes:
                self._released.append(event.region_id)


class _EngineMetrics:
    def __init__(self, app: FastAPI) -> None:
        registry = app.state.metrics.registry
        self.reports = Counter(
            "tryvoha_track_reports_total",
            "Track reports received, by result",
            ["result"],
            registry=registry,
        )
        self.commands = Counter(
            "tryvoha_engine_commands_total",
            "Raise/lift commands the warning engine sent, by result",
            ["result"],
            registry=registry,
        )
        self.tick_seconds = Histogram(
            "tryvoha_engine_tick_seconds",
            "Time of one warning-engine tick",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
            registry=registry,
        )
        self.tracks = Gauge(
            "tryvoha_engine_tracks", "Threat tracks the engine follows", registry=registry
        )


TracksBody = Annotated[
    dict[str, Any],
    Body(
        description=(
            "`reports`: a list of track reports (at most 5000). Each has `track_id`, `class` "
            "(shahed, jet_drone, cruise_missile, ballistic_missile, aircraft, unknown), "
            "`lat`, `lon`, `time` (ISO 8601 with offset), `precision_m` (95 % radius), "
            "`status` (active, lost, destroyed, impact) and optionally `course_deg`, "
            "`speed_mps` and `impact` {lat, lon, radius_m}."
        ),
        examples=[REPORT_EXAMPLE],
    ),
]


TracksWriter = Annotated[TokenRecord, Depends(require(Permission.WRITE_TRACKS))]


@router.post(
    "/api/tracks",
    response_model=TracksOut,
    responses=error_responses(400, 401, 403, 413, 422, 503),
)
async def post_tracks(body: TracksBody, request: Request, _token: TracksWriter) -> Response:
    """
    Threat-track reports for the warning engine (engine role). Each report is accepted or
    rejected on its own, with reasons; accepted ones update the engine at once, and the
    alerts it decides on appear in the event log within the next tick.
    """
    unknown = sorted(set(body) - {"reports"})
    if unknown:
        raise ApiError(422, "invalid_request", f"unknown fields: {', '.join(unknown)}")
    reports = body.get("reports")
    if not isinstance(reports, list):
        raise ApiError(422, "invalid_request", "reports: required, a list of track reports")
    if len(reports) > MAX_REPORTS:
        raise ApiError(422, "invalid_request", f"reports: at most {MAX_REPORTS} per request")
    runner: EngineRunner = request.app.state.engine
    results = await runner.submit(reports)
    accepted = sum(r["status"] == "accepted" for r in results)
    body_out = {"accepted": accepted, "rejected": len(results) - accepted, "results": results}
    return Response(orjson.dumps(body_out), media_type="application/json")


def install(app: FastAPI) -> None:
    """Add `POST /api/tracks` and the engine runner's start and stop hooks."""
    from tryvoha.sim.engine_setup import load_engine_config

    runner = EngineRunner(
        app, load_engine_config(getattr(app.state.settings, "engine_config", None))
    )
    app.state.engine = runner
    app.include_router(router)
    app.state.on_start.append(runner.start)
    app.state.on_stop.append(runner.stop)
