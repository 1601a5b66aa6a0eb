"""
Drive a running server with a simulated night: `POST /api/tracks` in delivery order.

Reports are sent when the feed would deliver them, *speed* times faster than real time.
A server whose clock runs at the same speed from the night's start (the demo's) takes the
reports' own times; a server on the wall clock needs `shift_s` (now - night start) and
speed 1, or it rejects the reports as stale. Progress shows on a rich progress bar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from tryvoha.core.codec import format_time
from tryvoha.core.engine import report_to_dict
from tryvoha.sim.feed import Delivery

MAX_BATCH = 500
KYIV = ZoneInfo("Europe/Kyiv")


@dataclass(slots=True)
class ReplayStats:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    requests: int = 0


def _payload(deliveries: Sequence[Delivery], shift_s: float) -> dict[str, object]:
    reports = []
    for delivery in deliveries:
        data = report_to_dict(delivery.report)
        if shift_s:
            data["time"] = format_time(delivery.report.time + timedelta(seconds=shift_s))
        reports.append(data)
    return {"reports": reports}


async def replay(
    client: httpx.AsyncClient,
    deliveries: Sequence[Delivery],
    *,
    start: float,
    end: float,
    speed: float,
    console: Console | None = None,
    shift_s: float = 0.0,
) -> ReplayStats:
    """
    Post *deliveries* (sorted by `received_at`) through *client*, which carries the base
    URL and an engine token; the night runs from *start* to *end* (POSIX seconds).
    """
    stats = ReplayStats()
    loop = asyncio.get_running_loop()
    began = loop.time()
    total = end - start
    with Progress(
        TextColumn("[bold]night[/] {task.fields[clock]}"),
        BarColumn(),
        TextColumn("{task.fields[sent]} reports, {task.fields[alerts]} alerts active"),
        TimeRemainingColumn(),
        console=console or Console(),
    ) as progress:
        task = progress.add_task("night", total=total, clock="", sent=0, alerts="?")
        index = 0
        last_poll = -1.0
        while True:
            night_now = start + (loop.time() - began) * speed
            due = index
            while due < len(deliveries) and deliveries[due].received_at <= night_now:
                due += 1
            for chunk in range(index, due, MAX_BATCH):
                batch = deliveries[chunk : min(due, chunk + MAX_BATCH)]
                response = await client.post("/api/tracks", json=_payload(batch, shift_s))
                response.raise_for_status()
                body = response.json()
                stats.requests += 1
                stats.sent += len(batch)
                stats.accepted += body["accepted"]
                stats.rejected += body["rejected"]
            index = due
            if loop.time() - last_poll >= 1.0:
                last_poll = loop.time()
                health = (await client.get("/healthz")).json()
                local = datetime.fromtimestamp(min(night_now, end), UTC).astimezone(KYIV)
                progress.update(
                    task,
                    completed=min(night_now, end) - start,
                    clock=f"{local:%d %b %H:%M} Kyiv",
                    sent=stats.sent,
                    alerts=health.get("active_alerts", "?"),
                )
            if night_now >= end and index >= len(deliveries):
                break
            upcoming = deliveries[index].received_at if index < len(deliveries) else end
            wait = (min(upcoming, end) - start) / speed - (loop.time() - began)
            await asyncio.sleep(min(max(wait, 0.01), 0.5))
        progress.update(task, completed=total)
    return stats
