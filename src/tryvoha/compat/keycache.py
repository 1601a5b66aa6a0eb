"""
A short-lived memory of token lookups, so polling devices do not query the store each time.

An answer (found or not) is trusted for `ttl` seconds: a revoked or new token takes effect
within that time instead of at once. Entries are keyed by the key as sent, so a poll whose
key is known costs no hashing either. `now` is monotonic seconds, passed in.
"""

from __future__ import annotations

from tryvoha.core.auth import TokenRecord


class KeyCache:
    __slots__ = ("_entries", "_max_keys", "ttl")

    def __init__(self, ttl: float = 1.0, max_keys: int = 10_000) -> None:
        self.ttl = ttl
        self._max_keys = max_keys
        self._entries: dict[str, tuple[TokenRecord | None, float]] = {}

    def get(self, raw_key: str, now: float) -> tuple[bool, TokenRecord | None]:
        """(known, record): `known` is False when the store must be asked."""
        entry = self._entries.get(raw_key)
        if entry is None or now - entry[1] >= self.ttl:
            return False, None
        return True, entry[0]

    def put(self, raw_key: str, record: TokenRecord | None, now: float) -> None:
        if raw_key not in self._entries and len(self._entries) >= self._max_keys:
            # Random keys from a scanner would otherwise grow this without bound.
            self._entries.clear()
        self._entries[raw_key] = (record, now)
