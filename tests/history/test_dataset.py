"""
Where sources meet: one source per moment by precedence, live alerts from the store, the
permanent alerts the files leave out, and the covering rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

import numpy as np
import pandas as pd
import pytest

from tryvoha.core.lifecycle import ActiveAlerts, Lift, Raise, decide
from tryvoha.core.model import AlertLevel, AlertType, Region
from tryvoha.core.regions import RegionRegistry
from tryvoha.history.calendar import to_ms
from tryvoha.history.dataset import (
    COLUMNS,
    LIVE,
    PERMANENT,
    AlertHistory,
    Selection,
    live_intervals,
    permanent_intervals,
)
from tryvoha.history.options import ALL, BEST
from tryvoha.history.queries import Period, region_stats
from tryvoha.storage.memory import MemoryStore

H = 3_600_000
T0 = to_ms(datetime(2024, 1, 1, tzinfo=UTC))


def rows(source: str, *spans: tuple[str, int, int], level: str = "alert") -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [(source, region, "air_raid", level, T0 + a * H, T0 + b * H) for region, a, b in spans],
        columns=COLUMNS,
    )


def total_hours(
    history: AlertHistory, registry: RegionRegistry, region: str, selection: Selection
) -> float:
    answer = region_stats(history, registry, region, Period(T0 - 100 * H, T0 + 100 * H), selection)
    return float(answer["total_seconds"]) / 3600


def test_the_better_source_owns_its_span_and_others_fill_the_rest(registry: RegionRegistry) -> None:
    history = AlertHistory.build(
        [
            rows("official", ("31", 0, 2), ("14", 9, 10)),  # spans hours 0-10
            rows("official-parquet", ("31", 1, 3), ("31", 11, 12)),  # 1-3 is inside official's span
            rows(LIVE, ("31", 5, 6), ("31", 20, 22)),
        ],
        (1, 1),
    )
    assert [s.source for s in history.sources()] == ["official", "official-parquet", LIVE]
    # best: official 0-2 and nothing else before 10; parquet 11-12; live 20-22 (its 5-6 is
    # inside official's span).
    assert total_hours(history, registry, "31", Selection()) == 2 + 1 + 2
    assert total_hours(history, registry, "31", Selection(source=ALL)) == 3 + 1 + 1 + 2
    assert total_hours(history, registry, "31", Selection(source=LIVE)) == 3
    assert total_hours(history, registry, "31", Selection(source="official-parquet")) == 3


def test_an_alert_crossing_a_span_edge_is_cut_there(registry: RegionRegistry) -> None:
    history = AlertHistory.build(
        [rows("official", ("31", 0, 4)), rows("official-parquet", ("31", 3, 8))], (1, 0)
    )
    answer = region_stats(history, registry, "31", Period(T0, T0 + 10 * H), Selection(source=BEST))
    # official's span ends at hour 4, so the parquet row counts from there: one episode 0-8.
    assert answer["count"] == 1
    assert answer["total_seconds"] == 8 * 3600


def test_covering_counts_ancestors_but_not_descendants(registry: RegionRegistry) -> None:
    hromada = "564"  # Zaporizhzhia hromada
    raion = registry.get(hromada).parent_id
    oblast = registry.oblast_of(hromada).id
    assert raion is not None
    history = AlertHistory.build(
        [rows("official", (oblast, 0, 2), (raion, 1, 3), (hromada, 5, 6), ("31", 0, 9))], (1, 0)
    )
    selection = Selection()
    assert total_hours(history, registry, hromada, selection) == 3 + 1
    assert total_hours(history, registry, raion, selection) == 3
    assert total_hours(history, registry, oblast, selection) == 2


def test_warnings_count_only_when_asked(registry: RegionRegistry) -> None:
    history = AlertHistory.build(
        [rows(LIVE, ("31", 0, 2)), rows(LIVE, ("31", 4, 5), level="warning")], (0, 2)
    )
    assert total_hours(history, registry, "31", Selection()) == 2
    assert total_hours(history, registry, "31", Selection(level=AlertLevel.WARNING)) == 1
    assert total_hours(history, registry, "31", Selection(level=None)) == 3


def test_permanent_alerts_apply_to_luhansk_and_crimea(registry: RegionRegistry) -> None:
    history = AlertHistory.build([permanent_intervals(registry)], (0, 0))
    since = to_ms(datetime(2023, 1, 1, tzinfo=UTC))
    period = Period(since, since + 24 * H)
    regions: tuple[str | Region, ...] = ("16", "29", *registry.children("16")[:1])
    for region in regions:
        region_id = region if isinstance(region, str) else region.id
        answer = region_stats(history, registry, region_id, period, Selection())
        assert answer["share"] == 1.0
        off = region_stats(history, registry, region_id, period, Selection(permanent=False))
        assert off["total_seconds"] == 0
    assert set(history.select(Selection()).region_ids) == {"16", "29"}
    assert history.sources() == []
    assert history.first_ms() is None


def test_live_intervals_come_from_the_store_history(registry: RegionRegistry) -> None:
    store = MemoryStore()
    active = ActiveAlerts()
    start = datetime(2024, 5, 1, 20, 0, tzinfo=UTC)
    commands: list[tuple[Raise | Lift, datetime]] = [
        (Raise(("31", "14"), AlertType.AIR_RAID, "duty", "duty"), start),
        (Lift(("31",), AlertType.AIR_RAID, "duty", "duty"), start + timedelta(hours=2)),
    ]
    for command, at in commands:
        decision = decide(active, command, now=at, known_regions=registry)
        store.append(decision.events)
        for event in decision.events:
            active.apply(event)
    frame = live_intervals(store)
    assert set(frame["source"]) == {LIVE}
    by_region = frame.set_index("region_id")
    # pandas-stubs type one cell as any scalar at all; these columns hold int64.
    finished = cast(np.int64, by_region.loc["31", "finished_ms"])
    started = cast(np.int64, by_region.loc["31", "started_ms"])
    assert finished - started == 2 * H
    history = AlertHistory.build([frame], (0, store.last_seq()))
    now = to_ms(start) + 5 * H
    answer = region_stats(history, registry, "14", Period(to_ms(start), now), Selection())
    # Still active: counted up to the end of the period.
    assert answer["total_seconds"] == 5 * 3600


@pytest.mark.parametrize("source", [BEST, ALL, LIVE])
def test_an_empty_history_answers_zero(registry: RegionRegistry, source: str) -> None:
    history = AlertHistory.build([], (0, 0))
    answer = region_stats(history, registry, "31", Period(T0, T0 + H), Selection(source=source))
    assert (answer["count"], answer["total_seconds"]) == (0, 0.0)
    assert PERMANENT not in {s.source for s in history.sources()}
