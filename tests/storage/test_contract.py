"""
The `Store` contract, run against every store (the `store` fixture).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.storage.night import REGIONS, T0, Night, minute
from tryvoha.core.auth import Role, TokenRecord
from tryvoha.core.model import AlertLevel, AlertType, Event, Threat, ThreatClass
from tryvoha.storage.base import (
    DuplicateToken,
    HistoryQuery,
    IdempotencyConflict,
    IdempotencyRecord,
    SequenceConflict,
    Store,
)
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.sqlite import SQLiteStore


def append_each(store: Store, batches: list[list[Event]]) -> None:
    for batch in batches:
        store.append(batch)


def history_ids(store: Store, **query: Any) -> list[int]:
    return [a.id for a in store.history(HistoryQuery(**query))]


def test_empty_store(store: Store) -> None:
    assert store.last_seq() == 0
    assert store.read_events() == []
    assert store.history(HistoryQuery()) == []
    assert store.find_idempotency("op", "k") is None
    assert store.find_token("0" * 64) is None
    assert store.list_tokens() == []


def test_events_round_trip(store: Store) -> None:
    """
    Every field of every event, as the lifecycle makes them, comes back unchanged.
    """
    night = Night()
    threat = Threat(ThreatClass.SHAHED, expected_arrival=minute(12), track_id="t-7")
    batches = [
        night.raise_("3", "4", level=AlertLevel.WARNING, engine=True, threat=threat),
        night.raise_("4", note="Шахеди з півдня", at=minute(1)),
        night.raise_("31", type=AlertType.ARTILLERY_SHELLING, at=minute(2.5)),
        night.lift("3", engine=True, at=minute(3)),
        night.lift("4", "31", at=minute(4)),
        night.lift("31", type=AlertType.ARTILLERY_SHELLING, at=minute(5)),
    ]
    append_each(store, batches)

    assert store.read_events() == night.events
    assert store.last_seq() == len(night.events) == 7
    assert store.read_events(after=2, limit=3) == night.events[2:5]
    assert store.read_events(after=7) == []
    assert store.read_events(after=-5, limit=1) == night.events[:1]
    assert store.read_events(limit=0) == []


def test_history_is_the_projection(store: Store) -> None:
    """
    History holds each alert as its newest event left it, newest alert first.
    """
    night = Night()
    append_each(
        store,
        [
            night.raise_("3", "4", at=minute(0)),
            night.raise_("4", level=AlertLevel.WARNING, at=minute(1)),
            night.lift("3", at=minute(2)),
        ],
    )
    expected = sorted(
        {e.alert.id: e.alert for e in night.events}.values(), key=lambda a: a.id, reverse=True
    )
    assert store.history(HistoryQuery()) == expected
    assert [a.is_active for a in expected] == [True, False]
    assert expected[0].level is AlertLevel.WARNING


def test_one_append_may_carry_many_events(store: Store) -> None:
    """
    A group commit: the raise and the lift of one alert in a single append.
    """
    night = Night()
    batch = night.raise_("3", "5") + night.lift("3", at=minute(1)) + night.raise_("14")
    store.append(batch)
    assert store.read_events() == batch
    assert history_ids(store) == [4, 2, 1]
    assert store.history(HistoryQuery(region_ids=["3"]))[0].finished_at == minute(1)


def test_empty_append_is_a_no_op(store: Store) -> None:
    store.append([])
    assert store.last_seq() == 0


@pytest.mark.parametrize(
    "first_seq",
    [pytest.param(1, id="repeats-last"), pytest.param(4, id="skips-one")],
)
def test_gap_or_overlap_is_refused_and_nothing_is_written(store: Store, first_seq: int) -> None:
    night = Night()
    append_each(store, [night.raise_("3"), night.raise_("4")])
    later = Night()
    later.active.last_seq = first_seq - 1
    bad = later.raise_("5", "14")
    record = IdempotencyRecord("op", "k1", "h", 201, b"{}", T0)

    with pytest.raises(SequenceConflict):
        store.append(bad, [record])

    assert store.last_seq() == 2
    assert store.read_events() == night.events
    assert history_ids(store) == [2, 1]
    assert store.find_idempotency("op", "k1") is None


def test_a_batch_with_a_hole_is_refused(store: Store) -> None:
    night = Night()
    first, _, third = night.raise_("3"), night.raise_("4"), night.raise_("5")
    with pytest.raises(SequenceConflict):
        store.append(first + third)
    assert store.last_seq() == 0
    assert store.history(HistoryQuery()) == []


@pytest.fixture(name="evening")
def _evening(store: Store) -> Store:
    """
    Four alerts with known intervals (minutes after T0):

        id 1  region 3  air_raid   [0, 3]
        id 2  region 4  air_raid   [1, 7]   warning until 4, then alert
        id 3  region 5  artillery  [2, 6]
        id 6  region 3  air_raid   [5, -)   still active
    """
    night = Night()
    append_each(
        store,
        [
            night.raise_("3", at=minute(0)),
            night.raise_("4", level=AlertLevel.WARNING, at=minute(1)),
            night.raise_("5", type=AlertType.ARTILLERY_SHELLING, at=minute(2)),
            night.lift("3", at=minute(3)),
            night.raise_("4", at=minute(4)),
            night.raise_("3", at=minute(5)),
            night.lift("5", type=AlertType.ARTILLERY_SHELLING, at=minute(6)),
            night.lift("4", at=minute(7)),
        ],
    )
    assert store.last_seq() == 8
    return store


_US = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({}, [6, 3, 2, 1], id="all"),
        pytest.param({"region_ids": ["3"]}, [6, 1], id="region"),
        pytest.param({"region_ids": {"3", "4"}}, [6, 2, 1], id="regions-set"),
        pytest.param({"region_ids": []}, [], id="no-regions"),
        pytest.param({"region_ids": ["31"]}, [], id="quiet-region"),
        pytest.param({"type": AlertType.ARTILLERY_SHELLING}, [3], id="type"),
        pytest.param({"type": AlertType.CHEMICAL}, [], id="type-never-raised"),
        pytest.param({"since": minute(3)}, [6, 3, 2], id="since-excludes-finished-at-since"),
        pytest.param({"since": minute(3) - _US}, [6, 3, 2, 1], id="since-just-before-finish"),
        pytest.param({"since": minute(60)}, [6], id="since-keeps-active"),
        pytest.param({"until": minute(5)}, [3, 2, 1], id="until-excludes-started-at-until"),
        pytest.param({"until": minute(5) + _US}, [6, 3, 2, 1], id="until-just-after-start"),
        pytest.param({"until": minute(0)}, [], id="until-before-all"),
        pytest.param({"since": minute(4), "until": minute(5)}, [3, 2], id="window"),
        pytest.param({"before_id": 6}, [3, 2, 1], id="cursor"),
        pytest.param({"before_id": 2}, [1], id="cursor-near-end"),
        pytest.param({"before_id": 1}, [], id="cursor-at-end"),
        pytest.param({"limit": 2}, [6, 3], id="limit"),
        pytest.param(
            {"region_ids": ["3", "4"], "type": AlertType.AIR_RAID, "since": minute(3)},
            [6, 2],
            id="combined",
        ),
    ],
)
def test_history_filters(evening: Store, query: dict[str, Any], expected: list[int]) -> None:
    assert history_ids(evening, **query) == expected


def test_history_pages_cover_every_alert_once(store: Store) -> None:
    night = Night()
    for n in range(40):
        region = sorted(REGIONS)[n % len(REGIONS)]
        store.append(night.raise_(region, at=minute(n)) or night.lift(region, at=minute(n)))
    alerts = {e.alert.id: e.alert for e in night.events}

    for query in (HistoryQuery(limit=3), HistoryQuery(region_ids=["3", "31"], limit=4)):
        seen: list[int] = []
        cursor: int | None = None
        while True:
            page = store.history(
                HistoryQuery(query.region_ids, limit=query.limit, before_id=cursor)
            )
            if not page:
                break
            assert len(page) <= query.limit
            seen.extend(a.id for a in page)
            cursor = page[-1].id
        wanted = [
            i
            for i in sorted(alerts, reverse=True)
            if query.region_ids is None or alerts[i].region_id in query.region_ids
        ]
        assert seen == wanted


def test_idempotency_records(store: Store) -> None:
    night = Night()
    record = IdempotencyRecord("kyiv-duty", "key-1", "sha256:ab", 201, b'{"seq": 1}', minute(0))
    store.append(night.raise_("3"), [record])

    assert store.find_idempotency("kyiv-duty", "key-1") == record
    assert store.find_idempotency("kyiv-duty", "key-2") is None
    assert store.find_idempotency("lviv-duty", "key-1") is None


def test_idempotency_record_without_events(store: Store) -> None:
    """A command that changed nothing still records its answer."""
    record = IdempotencyRecord("op", "k", "h1", 200, b"\x00\xff", minute(0))
    store.append([], [record])
    assert store.find_idempotency("op", "k") == record
    assert store.last_seq() == 0


def test_a_stored_answer_is_never_replaced(store: Store) -> None:
    """A second answer for a key fails the whole append: every retry gets the first."""
    first = IdempotencyRecord("op", "k", "h1", 200, b"first", minute(0))
    store.append([], [first])
    second = IdempotencyRecord("op", "k", "h2", 409, b"", minute(1))
    other = IdempotencyRecord("op", "other", "h3", 201, b"", minute(1))
    with pytest.raises(IdempotencyConflict):
        store.append(Night().raise_("14"), [other, second])
    assert store.find_idempotency("op", "k") == first
    assert store.find_idempotency("op", "other") is None
    assert store.last_seq() == 0
    assert history_ids(store) == []


def _token(name: str, role: Role = Role.OPERATOR, regions: tuple[str, ...] = ()) -> TokenRecord:
    return TokenRecord(name, role, f"hash-of-{name}", minute(0), regions)


def test_tokens(store: Store) -> None:
    duty = _token("lviv-duty", regions=("14", "27"))
    admin = _token("admin", Role.ADMIN)
    store.add_token(duty)
    store.add_token(admin)

    with pytest.raises(DuplicateToken):
        store.add_token(_token("lviv-duty", Role.READER))
    assert store.find_token("hash-of-lviv-duty") == duty
    assert store.find_token("hash-of-nobody") is None
    assert store.list_tokens() == [admin, duty]

    assert store.revoke_token("lviv-duty", minute(5)) is True
    revoked = store.find_token("hash-of-lviv-duty")
    assert revoked is not None
    assert revoked.revoked_at == minute(5)
    assert not revoked.is_active
    assert store.revoke_token("lviv-duty", minute(6)) is False
    assert store.revoke_token("nobody", minute(6)) is False
    assert store.list_tokens() == [admin, revoked]


def test_sqlite_keeps_everything_across_reopen(open_sqlite: Callable[[], SQLiteStore]) -> None:
    night = Night()
    store = open_sqlite()
    record = IdempotencyRecord("op", "k", "h", 201, b"body", minute(0))
    store.append(night.raise_("3", "4"), [record])
    store.append(night.lift("3", at=minute(1)))
    store.add_token(_token("op"))
    store.revoke_token("op", minute(2))
    before = (store.read_events(), store.history(HistoryQuery()), store.list_tokens())
    store.close()

    reopened = open_sqlite()
    assert (reopened.read_events(), reopened.history(HistoryQuery()), reopened.list_tokens()) == (
        before
    )
    assert reopened.find_idempotency("op", "k") == record
    assert reopened.last_seq() == 3


# -- memory and SQLite agree on random nights ------------------------------------------------

_TYPES = [AlertType.AIR_RAID, AlertType.ARTILLERY_SHELLING]

_command = st.tuples(
    st.sampled_from(["raise", "lift"]),
    st.lists(st.sampled_from(sorted(REGIONS)), min_size=1, max_size=3),
    st.sampled_from(_TYPES),
    st.sampled_from(list(AlertLevel)),
    st.booleans(),  # by the engine
    st.integers(min_value=0, max_value=30 * 60_000),  # ms since the previous command
)
_night = st.lists(st.lists(_command, min_size=1, max_size=4), min_size=1, max_size=12)


@pytest.fixture(scope="module", name="template_db")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """
    A migrated database file to copy: Alembic once per module, not once per example.
    """
    path = tmp_path_factory.mktemp("template") / "tryvoha.db"
    store = SQLiteStore(path)
    store.migrate()
    store.close()
    return path


@contextmanager
def fresh_sqlite(template: Path) -> Iterator[SQLiteStore]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "tryvoha.db"
        shutil.copy(template, path)
        store = SQLiteStore(path)
        try:
            yield store
        finally:
            store.close()


@settings(max_examples=40, deadline=None)
@given(night_plan=_night, data=st.data())
def test_memory_and_sqlite_agree(
    template_db: Path,
    night_plan: list[list[tuple[str, list[str], AlertType, AlertLevel, bool, int]]],
    data: st.DataObject,
) -> None:
    """
    Random raise/lift commands appended batch by batch read back alike from both stores.
    """
    with fresh_sqlite(template_db) as sqlite:
        check_agreement(MemoryStore(), sqlite, night_plan, data)


def check_agreement(
    memory: MemoryStore,
    sqlite: SQLiteStore,
    night_plan: list[list[tuple[str, list[str], AlertType, AlertLevel, bool, int]]],
    data: st.DataObject,
) -> None:
    night = Night()
    for batch in night_plan:
        events: list[Event] = []
        for verb, regions, alert_type, level, engine, step_ms in batch:
            night.now += timedelta(milliseconds=step_ms)
            if verb == "raise":
                events += night.raise_(*regions, type=alert_type, level=level, engine=engine)
            else:
                events += night.lift(*regions, type=alert_type, engine=engine)
        memory.append(events)
        sqlite.append(events)

    assert sqlite.last_seq() == memory.last_seq() == len(night.events)
    assert sqlite.read_events() == memory.read_events() == night.events
    after = data.draw(st.integers(-1, len(night.events) + 1), label="after")
    limit = data.draw(st.integers(0, 5), label="limit")
    assert sqlite.read_events(after, limit) == memory.read_events(after, limit)

    assert sqlite.history(HistoryQuery(limit=1000)) == memory.history(HistoryQuery(limit=1000))
    # Bounds on and 1 µs either side of event times check the ms rounding of the SQL.
    moments = sorted({e.at for e in night.events}) or [T0]
    near = st.builds(
        lambda t, us: t + timedelta(microseconds=us),
        st.sampled_from(moments),
        st.sampled_from([-1, 0, 1]),
    )
    anywhere = st.integers(-60_000_000, 6 * 3_600_000_000).map(
        lambda us: T0 + timedelta(microseconds=us)
    )
    times = st.none() | near | anywhere
    for _ in range(5):
        query = HistoryQuery(
            region_ids=data.draw(st.none() | st.sets(st.sampled_from(sorted(REGIONS)))),
            type=data.draw(st.none() | st.sampled_from(_TYPES)),
            since=data.draw(times, label="since"),
            until=data.draw(times, label="until"),
            before_id=data.draw(st.none() | st.integers(0, len(night.events) + 1)),
            limit=data.draw(st.integers(1, 8)),
        )
        assert sqlite.history(query) == memory.history(query), query
