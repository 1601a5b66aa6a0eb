"""
A server clock the tests set: stopped, or running on from the time it was last set.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SettableClock:
    def __init__(self, start: datetime | None = None, *, running: bool = False) -> None:
        self._lock = threading.Lock()
        self._running = running
        self._base = start or datetime.now(UTC)
        self._set_at = time.monotonic()

    def set(self, value: datetime) -> None:
        with self._lock:
            self._base = value
            self._set_at = time.monotonic()

    def __call__(self) -> datetime:
        with self._lock:
            if not self._running:
                return self._base
            return self._base + timedelta(seconds=time.monotonic() - self._set_at)
