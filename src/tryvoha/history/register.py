"""
Questions to the attacks register: what one night brought, the largest nights, and what was
launched during an alert.

**Night totals.** An attack day D runs from 18:00 Kyiv time on D-1 to 18:00 on D (a row
belongs to the day its start falls in), so a night and the morning after it are one day, as
the Air Force's morning reports count them. Totals add the rows that give a time of day; rows
with only dates are whole-day reports, mostly from regional commands, whose numbers overlap the
national ones: they are listed under `whole_day` and not added. The night of 2025-07-04 so
counts 539 drones and 11 missiles.

**During an alert.** An attack row matches an alert when its [time_start, time_end] overlaps
the alert's interval; whole-day rows match only when asked for.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from tryvoha.core.codec import format_time
from tryvoha.history.calendar import from_ms, local_label, parse_day
from tryvoha.history.weapons import WeaponClass, group_of

GROUPS = ("drones", "missiles", "other")


def _counts(rows: pd.DataFrame) -> dict[str, int]:
    return {
        "launched": int(rows["launched"].fillna(0).sum()),
        "destroyed": int(rows["destroyed"].fillna(0).sum()),
        "rows": len(rows),
    }


def _with_groups(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["group"] = [group_of(WeaponClass(c)) for c in frame["weapon_class"]]
    frame["whole_day"] = frame["start_is_date"].astype(bool) & frame["end_is_date"].astype(bool)
    return frame


def _attack_to_dict(row: Mapping[Hashable, Any]) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "time_start": row["time_start"],
        "time_end": row["time_end"],
        "start": format_time(from_ms(int(row["start_ms"]))),
        "end": format_time(from_ms(int(row["end_ms"]))),
        "start_is_date": bool(row["start_is_date"]),
        "end_is_date": bool(row["end_is_date"]),
        "day": row["day"],
        "model": row["model"],
        "class": row["weapon_class"],
        "group": group_of(WeaponClass(row["weapon_class"])),
        "launch_place": row["launch_place"],
        "target": row["target"],
        "launched": None if pd.isna(row["launched"]) else int(row["launched"]),
        "destroyed": None if pd.isna(row["destroyed"]) else int(row["destroyed"]),
        "source": row["source"],
    }


def _totals(rows: pd.DataFrame) -> dict[str, Any]:
    by_group = {g: _counts(rows[rows["group"] == g]) for g in GROUPS}
    by_class = {
        str(cls): _counts(part)
        for cls, part in sorted(rows.groupby("weapon_class"), key=lambda x: str(x[0]))
    }
    return {"groups": by_group, "classes": by_class}


def timed_rows(frame: pd.DataFrame, day: str) -> pd.DataFrame:
    """The rows of attack day *day* that give a time of day, earliest first."""
    if frame.empty:
        return frame
    rows = _with_groups(frame[frame["day"] == day])
    return rows[~rows["whole_day"]].sort_values(["start_ms", "id"])


def night(frame: pd.DataFrame, day_text: str) -> dict[str, Any]:
    """
    Launched and destroyed per weapon class on attack day *day_text* (YYYY-MM-DD).
    """
    day = parse_day(day_text).isoformat()
    rows = _with_groups(frame[frame["day"] == day])
    timed = rows[~rows["whole_day"]]
    whole = rows[rows["whole_day"]]
    totals = _totals(timed)
    return {
        "night": day,
        "window_local": f"{_previous(day)} 18:00 – {day} 18:00 (Kyiv)",
        "drones": totals["groups"]["drones"],
        "missiles": totals["groups"]["missiles"],
        "other": totals["groups"]["other"],
        "classes": totals["classes"],
        "whole_day": _totals(whole),
        "rows": [_attack_to_dict(r) for r in timed.to_dict("records")],
        "whole_day_rows": [_attack_to_dict(r) for r in whole.to_dict("records")],
    }


def _previous(day: str) -> str:
    return (pd.Timestamp(day) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")


def per_night(frame: pd.DataFrame) -> pd.DataFrame:
    """
    One row per attack day: launched and destroyed drones and missiles (timed rows only).
    """
    rows = _with_groups(frame)
    rows = rows[~rows["whole_day"]]
    columns = []
    for group in ("drones", "missiles"):
        part = rows[rows["group"] == group].groupby("day")
        columns.append(part["launched"].sum().rename(f"{group}_launched"))
        columns.append(part["destroyed"].sum().rename(f"{group}_destroyed"))
    table = pd.concat(columns, axis=1).fillna(0).astype(np.int64)
    table["launched"] = table["drones_launched"] + table["missiles_launched"]
    return table.sort_index()


def records(frame: pd.DataFrame, by: str = "launched", limit: int = 10) -> dict[str, Any]:
    """
    The largest attack days by `launched` (drones and missiles), `drones_launched` or
    `missiles_launched`.
    """
    table = per_night(frame)
    if by not in table.columns:
        raise ValueError(f"by: one of {', '.join(table.columns)}")
    top = table.sort_values([by, "launched"], ascending=False, kind="stable").head(limit)
    rows = [
        {"night": day, **{k: int(v) for k, v in values.items()}} for day, values in top.iterrows()
    ]
    return {"by": by, "rows": rows}


def during(frame: pd.DataFrame, lo: int, hi: int, *, whole_day: bool = False) -> dict[str, Any]:
    """
    The attack rows whose time range overlaps `[lo, hi]`, and their totals.
    """
    rows = _with_groups(frame)
    hit = (rows["start_ms"] <= hi) & (rows["end_ms"] >= lo)
    if not whole_day:
        hit &= ~rows["whole_day"]
    matched = rows[hit]
    totals = _totals(matched)
    return {
        "since": format_time(from_ms(lo)),
        "until": format_time(from_ms(hi)),
        "since_local": local_label(lo),
        "until_local": local_label(hi),
        "drones": totals["groups"]["drones"],
        "missiles": totals["groups"]["missiles"],
        "other": totals["groups"]["other"],
        "classes": totals["classes"],
        "rows": [_attack_to_dict(r) for r in matched.to_dict("records")],
    }
