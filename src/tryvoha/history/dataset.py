"""
All alert intervals the statistics see, from every source, and the rules that pick among them.

Sources:

- `official` (the official CSVs) and `official-parquet` (the derived parquet), imported;
- `live`: the server's own alerts, from the core `alerts` table through `Store.history`;
- `permanent`: the two alerts the official files leave out (Luhansk oblast since
  2022-04-04 16:45 UTC, Crimea since 2022-12-10 22:22 UTC), unfinished.

**Where sources cover the same time** (`source=best`, the default): each moment is taken from
the first source in `PRECEDENCE` whose span (its first start to its last finish, across all
regions) contains it, so the raw official record wins over its derived copy, and both win over
the server's own log. `permanent` alerts are added on top. `source=all` takes the union of
every source instead, and naming one source takes only that one.

**Covering rule**: the time a region spent under alert is the union of its own alerts and
those of its ancestors (an oblast alert covers every raion and hromada in it). Alerts on
descendants do not count: a hromada alert does not put the whole oblast under alert.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tryvoha.core.model import AlertLevel, AlertType
from tryvoha.core.regions import RegionRegistry
from tryvoha.core.stats import NEVER, Intervals, Times, clip, empty, union
from tryvoha.history.calendar import to_ms
from tryvoha.history.options import ALL, BEST
from tryvoha.history.sirens import OFFICIAL, OFFICIAL_PARQUET
from tryvoha.storage.base import HistoryQuery, Store

LIVE = "live"
PERMANENT = "permanent"
PRECEDENCE = (OFFICIAL, OFFICIAL_PARQUET)
"""Imported sources, best first; other imported sources follow, then `live`."""
COLUMNS = ["source", "region_id", "type", "level", "started_ms", "finished_ms"]
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class PermanentAlert:
    region_id: str
    katottg: str
    started_ms: int


PERMANENT_ALERTS = (
    # The upstream dataset README: "In Luhansk region from April 4 at 04:45 PM (UTC+00)" and
    # "In Crimea from December 10 at 10:22 PM (UTC+00)" (2022), not listed in the files.
    PermanentAlert("16", "UA44000000000018893", 1649090700000),  # 2022-04-04T16:45:00Z
    PermanentAlert("29", "UA01000000000013043", 1670710920000),  # 2022-12-10T22:22:00Z
)


def live_intervals(store: Store) -> pd.DataFrame:
    """
    Every alert of the server's own log as an interval; unfinished ones end at `NEVER`.
    """
    rows: list[tuple[str, str, str, str, int, int]] = []
    before: int | None = None
    while True:
        page = store.history(HistoryQuery(before_id=before, limit=_PAGE))
        for alert in page:
            finished = NEVER if alert.finished_at is None else to_ms(alert.finished_at)
            rows.append(
                (
                    LIVE,
                    alert.region_id,
                    alert.type.value,
                    alert.level.value,
                    to_ms(alert.started_at),
                    finished,
                )
            )
        if len(page) < _PAGE:
            break
        before = page[-1].id
    return pd.DataFrame.from_records(rows, columns=COLUMNS)


def imported_intervals(frame: pd.DataFrame) -> pd.DataFrame:
    """The repository's rows in `COLUMNS` form: imported alerts are all red (`alert`)."""
    result = frame.reindex(columns=COLUMNS)
    result["level"] = AlertLevel.ALERT.value
    return result


def permanent_intervals(registry: RegionRegistry) -> pd.DataFrame:
    rows = [
        (
            PERMANENT,
            p.region_id,
            AlertType.AIR_RAID.value,
            AlertLevel.ALERT.value,
            p.started_ms,
            NEVER,
        )
        for p in PERMANENT_ALERTS
        # Only where the registry is Ukraine's: ids are meaningless in another country's.
        if (region := registry.find(p.region_id)) is not None and region.katottg == p.katottg
    ]
    return pd.DataFrame.from_records(rows, columns=COLUMNS)


@dataclass(frozen=True, slots=True)
class Selection:
    type: AlertType = AlertType.AIR_RAID
    level: AlertLevel | None = AlertLevel.ALERT
    """None: both red alerts and yellow warnings."""
    source: str = BEST
    permanent: bool = True


class RegionIntervals:
    """
    One selection's intervals, grouped by region for lookups in constant time.
    """

    def __init__(self, region_ids: npt.NDArray[np.str_], starts: Times, ends: Times) -> None:
        order = np.lexsort((starts, region_ids))
        ids = region_ids[order]
        self.starts = starts[order]
        self.ends = ends[order]
        unique, first = np.unique(ids, return_index=True)
        last = np.append(first[1:], ids.size) if first.size else first
        self._slices = {
            str(rid): (int(a), int(b)) for rid, a, b in zip(unique, first, last, strict=True)
        }
        self._unions: dict[tuple[str, ...], Intervals] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self.starts.size)

    @property
    def region_ids(self) -> frozenset[str]:
        return frozenset(self._slices)

    def own(self, region_id: str) -> Intervals:
        bounds = self._slices.get(region_id)
        if bounds is None:
            return empty()
        return self.starts[bounds[0] : bounds[1]], self.ends[bounds[0] : bounds[1]]

    def lineage_key(self, registry: RegionRegistry, region_id: str) -> tuple[str, ...]:
        """The region and its ancestors that have alerts: regions with equal keys are equal."""
        lineage = (region_id, *registry.ancestors(region_id))
        return tuple(r for r in lineage if r in self._slices)

    def covering(self, registry: RegionRegistry, region_id: str) -> Intervals:
        """The region's own and its ancestors' intervals, merged into episodes (cached)."""
        return self.merged(self.lineage_key(registry, region_id))

    def merged(self, region_ids: tuple[str, ...]) -> Intervals:
        """The intervals of these regions together, merged into episodes (cached)."""
        with self._lock:
            cached = self._unions.get(region_ids)
        if cached is not None:
            return cached
        parts = [self.own(r) for r in region_ids]
        starts = np.concatenate([p[0] for p in parts]) if parts else empty()[0]
        ends = np.concatenate([p[1] for p in parts]) if parts else empty()[1]
        result = union(starts, ends)
        with self._lock:
            self._unions[region_ids] = result
        return result

    def raw_count(self, registry: RegionRegistry, region_id: str, lo: int, hi: int) -> int:
        """Alert records on the region or its ancestors that overlap `[lo, hi)`."""
        total = 0
        for rid in self.lineage_key(registry, region_id):
            s, e = self.own(rid)
            total += int(np.count_nonzero((s < hi) & (e > lo)))
        return total


@dataclass(frozen=True, slots=True)
class SourceSpan:
    source: str
    first_ms: int
    last_ms: int
    rows: int


class AlertHistory:
    """
    A snapshot of every interval, by source; selections are computed once and cached.
    """

    def __init__(self, frame: pd.DataFrame, version: tuple[int, int]) -> None:
        self.version = version
        self.size = len(frame)
        self._source = frame["source"].to_numpy(dtype=str)
        self._region = frame["region_id"].to_numpy(dtype=str)
        self._type = frame["type"].to_numpy(dtype=str)
        self._level = frame["level"].to_numpy(dtype=str)
        self._start = frame["started_ms"].to_numpy(dtype=np.int64)
        self._end = frame["finished_ms"].to_numpy(dtype=np.int64)
        self._spans = self._measure_sources()
        self._selections: dict[Selection, RegionIntervals] = {}
        self._lock = threading.Lock()

    @classmethod
    def build(cls, parts: Iterable[pd.DataFrame], version: tuple[int, int]) -> AlertHistory:
        frames = [p for p in parts if len(p)]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
        return cls(frame, version)

    def _measure_sources(self) -> list[SourceSpan]:
        present = set(np.unique(self._source).tolist()) - {PERMANENT}
        order = [s for s in PRECEDENCE if s in present]
        order += sorted(present - set(PRECEDENCE) - {LIVE})
        order += [LIVE] if LIVE in present else []
        spans = []
        for source in order:
            mine = self._source == source
            spans.append(
                SourceSpan(
                    source,
                    int(self._start[mine].min()),
                    int(self._end[mine].max()),
                    int(np.count_nonzero(mine)),
                )
            )
        return spans

    def sources(self) -> list[SourceSpan]:
        """Each source's span and size, in precedence order (`permanent` left out)."""
        return list(self._spans)

    def windows(self, source: str) -> list[tuple[str, int, int]]:
        """
        When each source is used under a `source` setting: (source, from, until) stretches,
        `NEVER`-bounded for `live`, in precedence order.
        """
        if source == ALL:
            return [(s.source, s.first_ms, s.last_ms) for s in self._spans]
        if source != BEST:
            return [(s.source, s.first_ms, s.last_ms) for s in self._spans if s.source == source]
        used: list[tuple[str, int, int]] = []
        claimed: list[tuple[int, int]] = []
        for span in self._spans:
            starts, ends = _free_windows(span, claimed)
            used += [(span.source, int(s), int(e)) for s, e in zip(starts, ends, strict=True)]
            if span.source != LIVE:
                claimed.append((span.first_ms, span.last_ms))
        return used

    def first_ms(self) -> int | None:
        real = self._start[self._source != PERMANENT]
        return int(real.min()) if real.size else None

    def select(self, selection: Selection) -> RegionIntervals:
        with self._lock:
            cached = self._selections.get(selection)
        if cached is not None:
            return cached
        region, start, end = self._choose(selection)
        result = RegionIntervals(region, start, end)
        with self._lock:
            self._selections[selection] = result
        return result

    def _choose(self, selection: Selection) -> tuple[npt.NDArray[np.str_], Times, Times]:
        wanted = self._type == selection.type.value
        if selection.level is not None:
            wanted &= self._level == selection.level.value
        permanent = wanted & (self._source == PERMANENT)
        if not selection.permanent:
            permanent[:] = False
        wanted &= self._source != PERMANENT
        if selection.source == ALL:
            return self._take(wanted | permanent)
        if selection.source != BEST:
            return self._take((wanted & (self._source == selection.source)) | permanent)
        pieces = [self._take(permanent)]
        claimed: list[tuple[int, int]] = []
        for span in self._spans:
            region, start, end = self._take(wanted & (self._source == span.source))
            for lo, hi in zip(*_free_windows(span, claimed), strict=True):
                s, e = np.maximum(start, lo), np.minimum(end, hi)
                keep = e > s
                pieces.append((region[keep], s[keep], e[keep]))
            if span.source != LIVE:
                claimed.append((span.first_ms, span.last_ms))
        return (
            np.concatenate([p[0] for p in pieces]),
            np.concatenate([p[1] for p in pieces]),
            np.concatenate([p[2] for p in pieces]),
        )

    def _take(self, mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.str_], Times, Times]:
        return self._region[mask], self._start[mask], self._end[mask]


def _free_windows(span: SourceSpan, claimed: list[tuple[int, int]]) -> Intervals:
    """The parts of a source's reach that no better source has claimed."""
    lo, hi = (-NEVER, NEVER) if span.source == LIVE else (span.first_ms, span.last_ms)
    if not claimed:
        return np.array([lo], np.int64), np.array([hi], np.int64)
    taken_s, taken_e = union(
        np.array([c[0] for c in claimed], np.int64), np.array([c[1] for c in claimed], np.int64)
    )
    gaps_s = np.concatenate(([lo], taken_e))
    gaps_e = np.concatenate((taken_s, [hi]))
    return clip(gaps_s, gaps_e, lo, hi)
