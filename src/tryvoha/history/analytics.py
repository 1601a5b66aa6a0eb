"""
`Analytics`: the statistics and the attacks register over one database, with caches.

The interval snapshot is rebuilt when the data version changes: the repository's import
counter or the live log's last sequence number. Answers are cached by (question, data version,
period end), so a repeated question costs a dictionary lookup; a period running up to now is
pinned to the current minute, so it stays cacheable for that minute.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from tryvoha.core.regions import RegionRegistry
from tryvoha.history.calendar import parse_bound, to_ms
from tryvoha.history.dataset import (
    AlertHistory,
    imported_intervals,
    live_intervals,
    permanent_intervals,
)
from tryvoha.history.queries import Period
from tryvoha.history.repository import HistoryRepository
from tryvoha.storage.base import Store

T = TypeVar("T")
CACHE_SIZE = 256
_MINUTE_MS = 60_000


class EmptyPeriod(ValueError):
    pass


class Analytics:
    def __init__(
        self,
        repository: HistoryRepository,
        store: Store,
        registry: RegionRegistry,
        *,
        live_version: Callable[[], int] | None = None,
    ) -> None:
        self.repository = repository
        self.store = store
        self.registry = registry
        self._live_version = live_version or store.last_seq
        self._build_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._history: AlertHistory | None = None
        self._attacks: tuple[int, pd.DataFrame] | None = None
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()

    def version(self) -> tuple[int, int]:
        return (self.repository.version(), self._live_version())

    def history(self) -> AlertHistory:
        version = self.version()
        current = self._history
        if current is not None and current.version == version:
            return current
        with self._build_lock:
            current = self._history
            if current is not None and current.version == version:
                return current
            built = AlertHistory.build(
                [
                    imported_intervals(self.repository.alert_intervals()),
                    live_intervals(self.store),
                    permanent_intervals(self.registry),
                ],
                version,
            )
            self._history = built
            return built

    def attacks(self) -> pd.DataFrame:
        version = self.repository.version()
        current = self._attacks
        if current is not None and current[0] == version:
            return current[1]
        with self._build_lock:
            frame = self.repository.attacks_frame()
            self._attacks = (version, frame)
            return frame

    def period(self, since: str | None, until: str | None, now: datetime) -> Period:
        """
        The period of a question: bounds as given (dates or times with offset), by default
        from the first alert on record to now; never past now. Raises ValueError.
        """
        now_ms = to_ms(now) // _MINUTE_MS * _MINUTE_MS
        hi = now_ms if until is None else min(parse_bound(until, end=True), now_ms)
        if since is None:
            first = self.history().first_ms()
            lo = hi if first is None else min(first, hi)
        else:
            lo = parse_bound(since, end=False)
        if lo > hi:
            raise EmptyPeriod(f"since ({since}) is after until ({until or 'now'})")
        return Period(lo, hi)

    def answer(self, question: Hashable, compute: Callable[[], T]) -> T:
        """*compute*'s result for *question*, cached with the data version it was made from."""
        key = (question, self.version())
        with self._cache_lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                cached: T = self._answers[key]
                return cached
        result = compute()
        with self._cache_lock:
            self._answers[key] = result
            while len(self._answers) > CACHE_SIZE:
                self._answers.popitem(last=False)
        return result
