"""
`tryvoha demo`: serve on a fresh database and replay a real night through the live API.

The night is the real oblast-level siren record of 3–4 July 2025 (bundled in
`data/nights/`), raised and lifted by a demo operator token at *speed* times real time, so
that the map, the streams and every other consumer see exactly what an operator's
commands would produce.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import httpx
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from tryvoha.api.app import create_app
from tryvoha.config import Settings
from tryvoha.core.auth import Role
from tryvoha.core.codec import parse_time
from tryvoha.storage.factory import open_store
from tryvoha.tokens import create_token

NIGHT = "2025-07-04.csv"


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    action: str
    region_id: str
    name: str


def load_night(name: str = NIGHT) -> tuple[datetime, datetime, list[Step]]:
    """
    The night's window and its raise/lift steps in time order, clipped to the window.
    """
    text = resources.files("tryvoha.data").joinpath("nights", name).read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    window_start = parse_time(rows[0]["window_start"])
    window_end = parse_time(rows[0]["window_end"])
    steps: list[Step] = []
    for row in rows:
        started = max(parse_time(row["started_at"]), window_start)
        finished = parse_time(row["finished_at"])
        steps.append(Step(started, "raise", row["region_id"], row["region_name"]))
        if finished <= window_end:
            steps.append(Step(finished, "lift", row["region_id"], row["region_name"]))
    steps.sort(key=lambda s: (s.at, s.action != "lift"))
    return window_start, window_end, steps


def _fresh_database(settings: Settings) -> None:
    url = settings.database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _replay(base_url: str, token: str, speed: float, console: Console) -> tuple[int, int]:
    window_start, window_end, steps = load_night()
    raised = lifted = 0
    headers = {"Authorization": f"Bearer {token}"}
    loop = asyncio.get_running_loop()
    began = loop.time()
    total = (window_end - window_start).total_seconds()
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        with Progress(
            TextColumn("[bold]replay[/] {task.fields[clock]}"),
            BarColumn(),
            TextColumn("{task.fields[last]}"),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("night", total=total, clock="", last="")
            for step in steps:
                offset = (step.at - window_start).total_seconds()
                delay = began + offset / speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                path = "/api/alerts" if step.action == "raise" else "/api/alerts/lift"
                response = await client.post(
                    path, json={"regions": [step.region_id], "type": "air_raid"}
                )
                response.raise_for_status()
                if step.action == "raise":
                    raised += 1
                else:
                    lifted += 1
                kyiv = step.at + timedelta(hours=3)
                progress.update(
                    task,
                    completed=offset,
                    clock=f"{kyiv:%d %b %H:%M} Kyiv",
                    last=f"{step.action} {step.name}",
                )
            progress.update(task, completed=total)
    return raised, lifted


def run_demo(settings: Settings, *, speed: float, exit_after: float | None) -> None:
    console = Console(stderr=False)
    _fresh_database(settings)
    store = open_store(settings.database_url)
    try:
        token = create_token(store, name="demo-operator", role=Role.OPERATOR)
    finally:
        store.close()
    base_url = f"http://{settings.host}:{settings.port}"
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                serving.result()
                sys.exit(1)
            await asyncio.sleep(0.05)
        console.print(f"tryvoha demo serving on [bold]{base_url}/[/] (live map)")
        console.print(
            "Replaying the real oblast-level sirens of the night of 3-4 July 2025 "
            f"(539 drones and 11 missiles) at {speed:g}x through the operator API."
        )
        console.print(
            f"Watch it: {base_url}/  ·  stream: {base_url}/api/stream  ·  "
            f"active: {base_url}/api/alerts/active"
        )
        raised, lifted = await _replay(base_url, token, speed, console)
        console.print(f"Replay done: {raised} raises, {lifted} lifts. Still serving {base_url}/")
        if exit_after is not None:
            await asyncio.sleep(exit_after)
            server.should_exit = True
        await serving

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
