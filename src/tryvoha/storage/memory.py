"""
`MemoryStore`: the in-memory twin of the durable stores, for tests and throwaway runs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from tryvoha.core.auth import TokenRecord
from tryvoha.core.model import Alert, Event
from tryvoha.storage.base import (
    DuplicateToken,
    HistoryQuery,
    IdempotencyConflict,
    IdempotencyRecord,
    SequenceConflict,
)


def matches(alert: Alert, query: HistoryQuery) -> bool:
    if query.region_ids is not None and alert.region_id not in query.region_ids:
        return False
    if query.type is not None and alert.type is not query.type:
        return False
    if query.before_id is not None and alert.id >= query.before_id:
        return False
    # An alert belongs to a period when its interval overlaps it.
    if query.until is not None and alert.started_at >= query.until:
        return False
    return not (
        query.since is not None
        and alert.finished_at is not None
        and alert.finished_at <= query.since
    )


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._alerts: dict[int, Alert] = {}
        self._idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self._tokens: dict[str, TokenRecord] = {}

    def migrate(self) -> None:
        pass

    def close(self) -> None:
        pass

    def append(
        self, events: Sequence[Event], idempotency: Sequence[IdempotencyRecord] = ()
    ) -> None:
        with self._lock:
            expected = len(self._events) + 1
            for offset, event in enumerate(events):
                if event.seq != expected + offset:
                    raise SequenceConflict(f"event {event.seq} does not follow {expected - 1}")
            for record in idempotency:
                if (record.actor, record.key) in self._idempotency:
                    raise IdempotencyConflict(f"an answer for {record.key!r} is stored already")
            self._events.extend(events)
            for event in events:
                self._alerts[event.alert.id] = event.alert
            for record in idempotency:
                self._idempotency[(record.actor, record.key)] = record

    def last_seq(self) -> int:
        return len(self._events)

    def read_events(self, after: int = 0, limit: int = 1000) -> list[Event]:
        with self._lock:
            return self._events[max(after, 0) : max(after, 0) + limit]

    def history(self, query: HistoryQuery) -> list[Alert]:
        with self._lock:
            alerts = sorted(self._alerts.values(), key=lambda a: a.id, reverse=True)
        return [a for a in alerts if matches(a, query)][: query.limit]

    def find_idempotency(self, actor: str, key: str) -> IdempotencyRecord | None:
        return self._idempotency.get((actor, key))

    def add_token(self, token: TokenRecord) -> None:
        with self._lock:
            if token.name in self._tokens:
                raise DuplicateToken(f"a token named {token.name!r} exists")
            self._tokens[token.name] = token

    def find_token(self, token_hash: str) -> TokenRecord | None:
        for token in self._tokens.values():
            if token.token_hash == token_hash:
                return token
        return None

    def list_tokens(self) -> list[TokenRecord]:
        return sorted(self._tokens.values(), key=lambda t: t.name)

    def revoke_token(self, name: str, now: datetime) -> bool:
        with self._lock:
            token = self._tokens.get(name)
            if token is None or token.revoked_at is not None:
                return False
            self._tokens[name] = replace(token, revoked_at=now)
            return True
