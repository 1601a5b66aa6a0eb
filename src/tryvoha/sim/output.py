"""
Writing a simulated night to files anyone can score independently (schema in docs/engine.md).

    night.json    what was simulated: scenario, seed, window, counts, file names, schema
    threats.*     one row per threat: class, model, fate, speed, launch and end
    truth.*       each threat's true position every `truth_step_s` and at every turn
    reports.*     what the feed delivered, in delivery order: `received_at` + a track report

`*` is `csv` or `jsonl` (JSON lines). Times are UTC, `2025-07-03T21:22:00.123Z`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tryvoha.core.codec import format_time
from tryvoha.core.engine import report_to_dict
from tryvoha.sim.night import Night

SCHEMA = "tryvoha-night/1"
FORMATS = ("csv", "jsonl")

THREAT_FIELDS = (
    "threat_id",
    "group",
    "model",
    "class",
    "fate",
    "speed_mps",
    "launched_at",
    "ended_at",
    "lost_at",
    "launch_lat",
    "launch_lon",
    "end_lat",
    "end_lon",
)
TRUTH_FIELDS = ("threat_id", "time", "lat", "lon")
REPORT_FIELDS = (
    "received_at",
    "track_id",
    "class",
    "lat",
    "lon",
    "time",
    "precision_m",
    "status",
    "course_deg",
    "speed_mps",
    "impact_lat",
    "impact_lon",
    "impact_radius_m",
)


def _time(seconds: float | None) -> str | None:
    return None if seconds is None else format_time(datetime.fromtimestamp(seconds, UTC))


def threat_rows(night: Night) -> Iterator[dict[str, Any]]:
    projection = night.units.projection
    for path in night.paths:
        lon, lat = projection.inverse([path.x[0], path.x[-1]], [path.y[0], path.y[-1]])
        yield {
            "threat_id": path.threat_id,
            "group": path.group,
            "model": path.model,
            "class": path.threat_class.value,
            "fate": path.fate.value,
            "speed_mps": round(path.speed_mps, 2),
            "launched_at": _time(path.launched_at),
            "ended_at": _time(path.ended_at),
            "lost_at": _time(path.lost_at),
            "launch_lat": round(float(lat[0]), 5),
            "launch_lon": round(float(lon[0]), 5),
            "end_lat": round(float(lat[1]), 5),
            "end_lon": round(float(lon[1]), 5),
        }


def truth_rows(night: Night) -> Iterator[dict[str, Any]]:
    projection = night.units.projection
    for path in night.paths:
        times, x, y = path.samples(night.scenario.truth_step_s)
        lon, lat = projection.inverse(x, y)
        for t, la, lo in zip(times, lat, lon, strict=True):
            yield {
                "threat_id": path.threat_id,
                "time": _time(float(t)),
                "lat": round(float(la), 5),
                "lon": round(float(lo), 5),
            }


def report_rows(night: Night, *, flat: bool) -> Iterator[dict[str, Any]]:
    for delivery in night.deliveries:
        row: dict[str, Any] = {"received_at": _time(delivery.received_at)}
        row.update(report_to_dict(delivery.report))
        if flat:
            impact = row.pop("impact")
            row["impact_lat"] = impact["lat"] if impact else None
            row["impact_lon"] = impact["lon"] if impact else None
            row["impact_radius_m"] = impact["radius_m"] if impact else None
        yield row


def write_night(night: Night, out: Path, fmt: str = "csv") -> dict[str, Any]:
    """Write the night's files into *out* (created); returns the manifest written."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    flat = fmt == "csv"
    tables = {
        "threats": (THREAT_FIELDS, threat_rows(night)),
        "truth": (TRUTH_FIELDS, truth_rows(night)),
        "reports": (REPORT_FIELDS, report_rows(night, flat=flat)),
    }
    files = {}
    for name, (fields, rows) in tables.items():
        target = out / f"{name}.{fmt}"
        if flat:
            _write_csv(target, fields, rows)
        else:
            _write_jsonl(target, rows)
        files[name] = target.name
    manifest = {
        "schema": SCHEMA,
        "scenario": night.scenario.name,
        "description": night.scenario.description,
        "source": night.scenario.source,
        "seed": night.seed,
        "start": format_time(night.scenario.start),
        "end": format_time(night.scenario.end),
        "threats": len(night.paths),
        "reports": len(night.deliveries),
        "truth_step_s": night.scenario.truth_step_s,
        "format": fmt,
        "files": files,
    }
    (out / "night.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def _write_csv(path: Path, fields: Iterable[str], rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(fields))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row))
            handle.write(b"\n")
