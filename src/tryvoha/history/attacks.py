"""
Reading and importing the attacks register (`missile_attacks_daily.csv`): what was launched,
when, and how much of it was destroyed.

How the file's quirks are handled (docs/history.md has the full rules):

- **Times are naive Kyiv local times.** Each is converted to UTC with `zoneinfo`
  (Europe/Kyiv). A wall time that occurs twice (the hour before winter time begins) is read as
  the first occurrence, summer time (+03:00); one that never occurred (the hour skipped when
  summer time begins) is read with the winter offset (+02:00). Both are listed in the import's
  notes.
- **Date-only times.** A date-only `time_start` means from 00:00 that day, a date-only
  `time_end` until 24:00 that day; the row keeps flags saying so. Rows with no time of day at
  all are whole-day reports, mostly from regional air commands: kept, but not added to night
  totals (see `register.py`).
- **Rows that share time, model and source but differ in target** are separate rows: the
  target is part of the key.
- **Rows revised upstream.** A row is identified by (time_start, time_end, model,
  launch_place, target, source) as written. Re-importing a file whose row has the same key but
  other values replaces the stored values and counts it as *revised*; an unchanged row is a
  duplicate. A revision that changes a key field cannot be told from a new row.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from tryvoha.history.calendar import KYIV, to_ms
from tryvoha.history.importer import (
    ATTACKS,
    ImportSummary,
    NoProgress,
    ProgressSink,
    import_record,
)
from tryvoha.history.repository import HistoryRepository
from tryvoha.history.sirens import Rejection
from tryvoha.history.weapons import WeaponTable

KEY_FIELDS = ("time_start", "time_end", "model", "launch_place", "target", "source")
REQUIRED = ("time_start", "time_end", "model", "launched", "destroyed", "source")
SOURCE = "attacks"
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


class AttacksFormatError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LocalTime:
    utc_ms: int
    is_date: bool
    wall: datetime
    """The naive Kyiv wall time the row gave (midnight for a date)."""
    note: str | None = None
    """Set when the wall time was ambiguous or did not exist."""


def parse_local(text: str, *, end: bool) -> LocalTime:
    """
    A naive Kyiv time (`YYYY-MM-DD HH:MM[:SS]`) or a date, as UTC; see the module docstring.
    """
    text = text.strip()
    found = _DATE.match(text)
    if found:
        day = date(int(found[1]), int(found[2]), int(found[3]))
        wall = datetime.combine(day + timedelta(days=1) if end else day, datetime.min.time())
        return LocalTime(_kyiv_ms(wall), True, wall)
    found = _DATETIME.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a date or a date and time")
    year, month, day_, hour, minute, second = (int(v or 0) for v in found.groups())
    wall = datetime(year, month, day_, hour, minute, second)  # noqa: DTZ001 - a Kyiv wall time
    return LocalTime(_kyiv_ms(wall), False, wall, _clock_change_note(wall))


def _kyiv_ms(wall: datetime) -> int:
    return to_ms(wall.replace(tzinfo=KYIV, fold=0))


def _clock_change_note(wall: datetime) -> str | None:
    first = wall.replace(tzinfo=KYIV, fold=0)
    second = wall.replace(tzinfo=KYIV, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    # zoneinfo gives fold=0 the offset in force before the change in both cases.
    if to_ms(first) < to_ms(second):
        return f"{wall:%Y-%m-%d %H:%M} occurs twice in Kyiv; read as summer time (+03:00)"
    return f"{wall:%Y-%m-%d %H:%M} did not occur in Kyiv (clocks went forward); read as +02:00"


def attack_day(wall: datetime) -> str:
    """
    The attack day a start belongs to: 18:00 the evening before to 18:00, named by its date.
    """
    return (wall + timedelta(hours=6)).date().isoformat()


def _count(text: str) -> int | None:
    if text == "":
        return None
    value = float(text)
    if value != int(value) or value < 0:
        raise ValueError(f"{text!r} is not a whole number of weapons")
    return int(value)


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass(slots=True)
class ParsedAttacks:
    rows_read: int
    rows: list[dict[str, Any]]
    rejected: list[Rejection]
    duplicates: int
    notes: list[str]


def read_attacks(path: Path, weapons: WeaponTable) -> ParsedAttacks:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AttacksFormatError(f"{path.name}: not a readable CSV ({exc})") from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise AttacksFormatError(f"{path.name}: missing columns {', '.join(missing)}")
    frame = frame.apply(lambda column: column.str.strip())
    for column in KEY_FIELDS:
        if column not in frame.columns:
            frame[column] = ""
    rows: list[dict[str, Any]] = []
    rejected: list[Rejection] = []
    notes: list[str] = []
    seen: dict[str, tuple[int, str]] = {}
    duplicates = 0
    for index, record in enumerate(frame.to_dict("records")):
        line = index + 2
        try:
            row = _row(record, weapons)
        except ValueError as exc:
            rejected.append(Rejection(line, str(exc)))
            continue
        notes += [f"line {line}: {n}" for n in row.pop("notes")]
        earlier = seen.get(row["row_key"])
        if earlier is not None:
            if earlier[1] == row["content_hash"]:
                duplicates += 1
            else:
                rejected.append(
                    Rejection(line, f"same row as line {earlier[0]} but with other values")
                )
            continue
        seen[row["row_key"]] = (line, row["content_hash"])
        rows.append(row)
    return ParsedAttacks(len(frame), rows, rejected, duplicates, notes)


def _row(record: dict[str, str], weapons: WeaponTable) -> dict[str, Any]:
    if not record["model"]:
        raise ValueError("model is empty")
    try:
        start = parse_local(record["time_start"], end=False)
    except ValueError as exc:
        raise ValueError(f"time_start {exc}") from None
    try:
        end = parse_local(record["time_end"], end=True)
    except ValueError as exc:
        raise ValueError(f"time_end {exc}") from None
    if end.utc_ms < start.utc_ms:
        raise ValueError(
            f"time_end {record['time_end']!r} is before time_start {record['time_start']!r}"
        )
    counts = {}
    for column in ("launched", "destroyed"):
        try:
            counts[column] = _count(record[column])
        except ValueError:
            raise ValueError(f"{column} {record[column]!r} is not a whole number") from None
    payload = orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode()
    return {
        "row_key": _digest([record[f] for f in KEY_FIELDS]),
        "content_hash": _digest([payload]),
        "time_start": record["time_start"],
        "time_end": record["time_end"],
        "start_ms": start.utc_ms,
        "end_ms": end.utc_ms,
        "start_is_date": start.is_date,
        "end_is_date": end.is_date,
        "day": attack_day(start.wall),
        "model": record["model"],
        "weapon_class": weapons.classify(record["model"]).value,
        "launch_place": record["launch_place"],
        "target": record["target"],
        "source": record["source"],
        "launched": counts["launched"],
        "destroyed": counts["destroyed"],
        "payload": payload,
        "notes": [n for n in (start.note, end.note) if n],
    }


def import_attacks(
    repository: HistoryRepository,
    path: Path,
    *,
    weapons: WeaponTable | None = None,
    progress: ProgressSink | None = None,
    now_ms: int | None = None,
) -> ImportSummary:
    """
    Import the attacks CSV: new rows are added, changed rows replaced, unchanged ones skipped.
    """
    progress = progress or NoProgress()
    progress.stage(f"reading {path.name}", None)
    parsed = read_attacks(path, weapons or WeaponTable())
    stored = repository.attack_hashes()
    new: list[dict[str, Any]] = []
    revised: list[dict[str, Any]] = []
    duplicates = parsed.duplicates
    for row in parsed.rows:
        known = stored.get(row["row_key"])
        if known is None:
            new.append(row)
        elif known != row["content_hash"]:
            revised.append(row)
        else:
            duplicates += 1
    summary = ImportSummary(
        file=path.name,
        kind=ATTACKS,
        source=SOURCE,
        unit="line",
        rows_read=parsed.rows_read,
        imported=len(new),
        duplicates=duplicates,
        revised=len(revised),
        rejected=tuple(parsed.rejected),
        notes=tuple(parsed.notes),
    )
    progress.stage(f"writing {len(new) + len(revised)} rows", len(new) + len(revised))
    repository.save_attacks(
        new, revised, import_record(summary, now_ms or int(time.time() * 1000)), progress.advance
    )
    return summary
