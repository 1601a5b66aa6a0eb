"""
Reading the official sirens dataset: the CSVs (English or Ukrainian names; oblast, raion and
hromada rows) and the derived oblast-level parquet (or a CSV extract of it with the same
columns), into alert intervals with region ids.

Every row ends up either as an interval or as a rejection that says where and why; none is
dropped silently. Times must carry a UTC offset and are kept in UTC. Parsing is vectorised
(pandas), so the 43,031 rows of the English file take a fraction of a second.

Rules beyond the obvious (see docs/history.md):

- A row whose `oblast` and `raion` columns are swapped (line 18 of the official files) is read
  with them swapped back and reported as repaired.
- Parquet rows are oblast-wide intervals that upstream merged from `n_subalerts` alerts. Rows
  merged from several alerts and lasting over `MAX_MERGED_HOURS` are rejected: they chain
  months of raion and hromada alerts into one "event" and say nothing about the oblast.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tryvoha.history.names import KEY_COLUMNS, name_table

OFFICIAL = "official"
OFFICIAL_PARQUET = "official-parquet"
AIR_RAID = "air_raid"
CSV_COLUMNS = ("oblast", "raion", "hromada", "level", "started_at", "finished_at")
PARQUET_COLUMNS = ("region", "started_at", "finished_at")
LEVELS = ("oblast", "raion", "hromada")
MAX_MERGED_HOURS = 24
_OFFSET = r"(?:[zZ]|[+-]\d\d:?\d\d)$"


class SirensFormatError(ValueError):
    """The file as a whole is not in a format we read (missing columns, not a CSV...)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str


@dataclass(slots=True)
class ParsedSirens:
    """
    Intervals read from one file: `rows` has the columns line, region_id, started_ms,
    finished_ms, subalerts (0 when the row is one alert).
    """

    source: str
    unit: str
    """What `line` numbers count: "line" in a CSV (the header is line 1), "row" in a parquet."""
    rows_read: int
    rows: pd.DataFrame
    rejected: list[Rejection] = field(default_factory=list)
    repaired: list[Rejection] = field(default_factory=list)


def read_sirens(path: Path, known_regions: Collection[str] | None = None) -> ParsedSirens:
    """
    Read an official sirens CSV or the derived parquet, by the file's extension.

    With *known_regions*, rows whose region id is not among them are rejected.
    """
    parsed = _read_parquet(path) if path.suffix.lower() == ".parquet" else _read_csv(path)
    if known_regions is not None:
        _reject_unknown_ids(parsed, known_regions)
    return parsed


# -- CSV ---------------------------------------------------------------------------------


def _read_csv(path: Path) -> ParsedSirens:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SirensFormatError(f"{path.name}: not a readable CSV ({exc})") from exc
    if "oblast" not in frame.columns and all(c in frame.columns for c in PARQUET_COLUMNS):
        # An extract of the derived parquet written as CSV (e.g. one night of it).
        return _read_derived(frame, "line", 2)
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise SirensFormatError(f"{path.name}: missing columns {', '.join(missing)}")
    frame = frame.apply(lambda column: column.str.strip())
    frame["line"] = np.arange(len(frame), dtype=np.int64) + 2
    reasons = pd.Series("", index=frame.index, dtype=object)
    if "source" in frame.columns:
        source = frame["source"]
        _note(
            reasons,
            source != OFFICIAL,
            "source {!r}: only the official channel's rows are read",
            source,
        )
    _check_levels(frame, reasons)
    started, finished = _times(frame, reasons)
    region_ids, repaired = _map_names(frame, reasons)
    return _finish(OFFICIAL, "line", frame, reasons, region_ids, started, finished, None, repaired)


def _check_levels(frame: pd.DataFrame, reasons: pd.Series) -> None:
    level = frame["level"]
    has_raion = frame["raion"] != ""
    has_hromada = frame["hromada"] != ""
    shape_ok = (
        ((level == "oblast") & ~has_raion & ~has_hromada)
        | ((level == "raion") & has_raion & ~has_hromada)
        | ((level == "hromada") & has_raion & has_hromada)
    ) & (frame["oblast"] != "")
    unknown = ~level.isin(LEVELS)
    _note(reasons, unknown, "level {!r}: not oblast, raion or hromada", level)
    _note(reasons, ~unknown & ~shape_ok, "level {!r} does not match the names given", level)


def _times(frame: pd.DataFrame, reasons: pd.Series) -> tuple[pd.Series, pd.Series]:
    parsed = []
    for column in ("started_at", "finished_at"):
        text = frame[column]
        empty = text == ""
        _note(reasons, empty, f"{column} is empty")
        no_offset = ~empty & ~text.str.contains(_OFFSET, regex=True)
        _note(reasons, no_offset, column + " {!r} has no UTC offset", text)
        value = pd.to_datetime(
            text.where(~empty & ~no_offset), format="ISO8601", errors="coerce", utc=True
        )
        _note(reasons, value.isna() & ~empty & ~no_offset, column + " {!r} is not a time", text)
        parsed.append(value)
    return parsed[0], parsed[1]


def _map_names(frame: pd.DataFrame, reasons: pd.Series) -> tuple[pd.Series, list[Rejection]]:
    table = name_table()
    keys = frame[[*KEY_COLUMNS, "level"]]
    found = keys.merge(table, on=[*KEY_COLUMNS, "level"], how="left")["region_id"]
    found.index = frame.index
    repaired: list[Rejection] = []
    missing = found.isna() & (reasons == "")
    if missing.any():
        swapped = keys[missing].rename(columns={"oblast": "raion", "raion": "oblast"})
        retry = swapped.merge(table, on=[*KEY_COLUMNS, "level"], how="left")["region_id"]
        retry.index = swapped.index
        fixed = retry.dropna()
        found[fixed.index] = fixed
        for index in fixed.index:
            repaired.append(
                Rejection(int(frame["line"][index]), "oblast and raion columns swapped")
            )
    still = found.isna() & (reasons == "")
    for index in still[still].index:
        reasons[index] = _why_unknown(table, frame.loc[index])
    return found, repaired


def _why_unknown(table: pd.DataFrame, row: pd.Series) -> str:
    oblasts = table[table["oblast"] == row["oblast"]]
    if oblasts.empty:
        return f"unknown oblast {row['oblast']!r}"
    if row["raion"] and not (oblasts["raion"] == row["raion"]).any():
        return f"unknown raion {row['raion']!r} in {row['oblast']!r}"
    return f"unknown hromada {row['hromada']!r} in {row['raion']!r}, {row['oblast']!r}"


# -- parquet -----------------------------------------------------------------------------


def _read_parquet(path: Path) -> ParsedSirens:
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise SirensFormatError(f"{path.name}: not a readable parquet file ({exc})") from exc
    missing = [c for c in PARQUET_COLUMNS if c not in frame.columns]
    if missing:
        raise SirensFormatError(f"{path.name}: missing columns {', '.join(missing)}")
    return _read_derived(frame, "row", 1)


def _read_derived(frame: pd.DataFrame, unit: str, first_line: int) -> ParsedSirens:
    """
    Rows of the derived dataset: oblast-level intervals, `n_subalerts` alerts merged in each.
    """
    frame = frame.reset_index(drop=True)
    frame["line"] = np.arange(len(frame), dtype=np.int64) + first_line
    reasons = pd.Series("", index=frame.index, dtype=object)
    started = _utc(frame["started_at"])
    finished = _utc(frame["finished_at"])
    _note(reasons, started.isna(), "started_at is missing or not a time with offset")
    _note(reasons, finished.isna(), "finished_at is missing or not a time with offset")
    subalerts = (
        pd.to_numeric(frame["n_subalerts"], errors="coerce").fillna(1).astype(np.int64)
        if "n_subalerts" in frame.columns
        else pd.Series(1, index=frame.index, dtype=np.int64)
    )
    hours = (finished - started).dt.total_seconds() / 3600
    merged_long = (subalerts > 1) & (hours > MAX_MERGED_HOURS)
    _note(
        reasons,
        merged_long,
        "merged upstream from {} alerts over {:.1f} days"
        + f" (over {MAX_MERGED_HOURS} h): not an oblast-wide alert",
        pd.DataFrame({"n": subalerts, "days": hours / 24}),
    )
    table = name_table()
    oblasts: pd.Series = table[table["level"] == "oblast"].set_index("oblast")["region_id"]
    names = frame["region"].astype(str).str.strip()
    region_ids = names.map(oblasts)
    _note(reasons, region_ids.isna(), "unknown oblast {!r}", names)
    merged = subalerts.where(subalerts > 1, 0)
    return _finish(
        OFFICIAL_PARQUET, unit, frame, reasons, region_ids, started, finished, merged, []
    )


def _utc(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        converted: pd.Series = values.dt.tz_convert("UTC")
        return converted
    text = values.astype(str).str.strip()
    with_offset = text.str.contains(_OFFSET, regex=True)
    parsed: pd.Series = pd.to_datetime(
        text.where(with_offset), format="ISO8601", errors="coerce", utc=True
    )
    return parsed


# -- shared ------------------------------------------------------------------------------


def _note(
    reasons: pd.Series,
    mask: pd.Series,
    template: str,
    values: pd.Series | pd.DataFrame | None = None,
) -> None:
    """
    Record a reason for the rows in *mask* that have none yet (the first one wins): the
    *template* formatted with the row's *values*, built only for those rows.
    """
    fresh = mask & (reasons == "")
    if not fresh.any():
        return
    if values is None:
        reasons[fresh] = template
    elif isinstance(values, pd.DataFrame):
        rows = values[fresh].itertuples(index=False, name=None)
        reasons[fresh] = [template.format(*row) for row in rows]
    else:
        reasons[fresh] = [template.format(value) for value in values[fresh]]


def _to_ms(values: pd.Series) -> pd.Series:
    millis: pd.Series = values.dt.as_unit("ms").astype("int64")
    return millis


def _finish(
    source: str,
    unit: str,
    frame: pd.DataFrame,
    reasons: pd.Series,
    region_ids: pd.Series,
    started: pd.Series,
    finished: pd.Series,
    subalerts: pd.Series | None,
    repaired: list[Rejection],
) -> ParsedSirens:
    valid_times = started.notna() & finished.notna()
    order = pd.Series(False, index=frame.index)
    order[valid_times] = finished[valid_times] <= started[valid_times]
    _note(reasons, order, "finished_at is not after started_at")
    ok = reasons == ""
    rows = pd.DataFrame(
        {
            "line": frame.loc[ok, "line"].to_numpy(dtype=np.int64),
            "region_id": region_ids[ok].astype(str).to_numpy(),
            "started_ms": _to_ms(started[ok]).to_numpy(),
            "finished_ms": _to_ms(finished[ok]).to_numpy(),
            "subalerts": (
                subalerts[ok].to_numpy(dtype=np.int64)
                if subalerts is not None
                else np.zeros(int(ok.sum()), dtype=np.int64)
            ),
        }
    )
    rejected = [
        Rejection(int(line), str(reason))
        for line, reason in zip(frame.loc[~ok, "line"], reasons[~ok], strict=True)
    ]
    return ParsedSirens(source, unit, len(frame), rows, rejected, repaired)


def _reject_unknown_ids(parsed: ParsedSirens, known: Collection[str]) -> None:
    rows = parsed.rows
    unknown = ~rows["region_id"].isin(list(known))
    for line, region_id in zip(
        rows.loc[unknown, "line"], rows.loc[unknown, "region_id"], strict=True
    ):
        parsed.rejected.append(
            Rejection(int(line), f"region {region_id} is not in the region registry")
        )
    parsed.rejected.sort(key=lambda r: r.line)
    parsed.rows = rows[~unknown].reset_index(drop=True)
