"""
`tryvoha demo`: serve on a fresh database and replay the night of 3-4 July 2025 through the
warning engine of the live server.

The night is the simulated 2025-07-04 scenario (539 Shahed-type drones and 11 missiles):
its surveillance reports go to `POST /api/tracks` with a demo engine token at *speed* times
real time, against a server whose clock runs at that speed from the night's start, so the
engine, the map, the streams and every other consumer see the night as it would unfold.
At the end the alerts the server produced are read back from the event log and scored
against the ground truth, beside the oblast-wide baseline and the real sirens of Kyiv.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console

from tryvoha.api.app import create_app
from tryvoha.compat.protocol import compat_http_protocol
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.regions_io import load_bundled
from tryvoha.sim.engine_setup import engine_units, shipped_config
from tryvoha.sim.night import score_night, simulate
from tryvoha.sim.replay import replay
from tryvoha.sim.report import render_scores
from tryvoha.sim.run import AlertLog, intervals_from_events
from tryvoha.sim.scenario import load_scenario
from tryvoha.storage.factory import open_store
from tryvoha.tokens import create_token

SCENARIO = "2025-07-04"
ENGINE_TICK_WALL_S = 0.1
"""How often the engine ticks in wall time during the demo (6 s of the night at 60x)."""


class NightClock:
    """
    The night's time, running *speed* times faster than the wall clock once started.
    """

    def __init__(self, start: datetime, speed: float) -> None:
        self.start = start
        self.speed = speed
        self._began: float | None = None

    def begin(self) -> None:
        self._began = time.monotonic()

    def __call__(self) -> datetime:
        if self._began is None:
            return self.start
        return self.start + timedelta(seconds=(time.monotonic() - self._began) * self.speed)


def _fresh_database(settings: Settings) -> None:
    url = settings.database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _read_events(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        page = (
            await client.get("/api/events", params={"after": len(events), "limit": 1000})
        ).json()
        events.extend(page["events"])
        if not page["events"]:
            return events


def run_demo(
    settings: Settings, *, speed: float, exit_after: float | None, scenario_name: str = SCENARIO
) -> None:
    console = Console(width=None if sys.stdout.isatty() else 120)
    if speed <= 0:
        console.print("tryvoha demo: --speed must be positive")
        sys.exit(2)
    _fresh_database(settings)
    store = open_store(settings.database_url)
    try:
        token = create_token(store, name="demo-engine", role=Role.ENGINE)
    finally:
        store.close()
    registry = load_bundled()
    config = shipped_config()
    scenario = load_scenario(scenario_name)
    console.print(f"Simulating the night of scenario {scenario.name} (seeded) ...")
    night = simulate(scenario, engine_units(registry, config))
    clock = NightClock(scenario.start, speed)
    app = create_app(settings, registry=registry, clock=clock)
    app.state.engine.tick_seconds = ENGINE_TICK_WALL_S
    base_url = f"http://{settings.host}:{settings.port}"
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            loop="uvloop",
            # As `tryvoha serve`: polled answers and stream events past the ASGI stack.
            http=compat_http_protocol(app),
        )
    )

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                serving.result()
                sys.exit(1)
            await asyncio.sleep(0.05)
        console.print(f"tryvoha demo serving on [bold]{base_url}/[/] (live map)")
        console.print(
            f"Replaying scenario {scenario.name} at {speed:g}x: {scenario.description}; "
            f"{len(night.deliveries):,} surveillance reports into the warning engine."
        )
        console.print(
            f"Watch it: {base_url}/  ·  stream: {base_url}/api/stream  ·  "
            f"active: {base_url}/api/alerts/active"
        )
        # The oblast-wide baseline replays the same night in another process meanwhile. A
        # fresh interpreter, not a fork: forking a process that runs threads can copy a lock
        # some thread holds, and the child then waits on it forever.
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        baseline = asyncio.get_running_loop().run_in_executor(
            pool, oblast_wide_log, scenario_name, night.seed
        )
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
            clock.begin()
            stats = await replay(
                client,
                night.deliveries,
                start=night.start,
                end=night.end,
                speed=speed,
                console=console,
            )
            console.print(
                f"Replay done: {stats.accepted:,} reports accepted, {stats.rejected} rejected."
            )
            engine_log = intervals_from_events(
                await _read_events(client), night.start, night.end, source="engine"
            )
        console.print("Scoring the alerts the server produced against the ground truth ...")
        oblast_log = await baseline
        pool.shutdown()
        scores = score_night(night, registry, config, engine_log=engine_log, oblast_log=oblast_log)
        render_scores(night, scores, console)
        console.print(f"Still serving {base_url}/")
        if exit_after is not None:
            await asyncio.sleep(exit_after)
            server.should_exit = True
        await serving

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def oblast_wide_log(scenario_name: str, seed: int) -> AlertLog:
    """The oblast-wide baseline of a night, rebuilt from its scenario and seed."""
    from tryvoha.sim.baselines import oblast_units, oblast_wide

    registry = load_bundled()
    config = shipped_config()
    night = simulate(load_scenario(scenario_name), engine_units(registry, config), seed)
    units = oblast_units(registry, config, night.units.projection)
    return oblast_wide(units, config, night.deliveries, night.start, night.end)
