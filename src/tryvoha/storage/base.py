"""
The `Store` protocol: the durable event log and what is kept beside it.

A store is synchronous; the service runs it on one dedicated writer thread so that the
event loop never waits on a disk. `append()` returns only once the events are durable
(SQLite: WAL with synchronous=FULL; PostgreSQL: committed) and is all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tryvoha.core.auth import TokenRecord
from tryvoha.core.model import Alert, AlertType, Event


class StoreError(Exception):
    pass


class SequenceConflict(StoreError):
    """The first appended event does not follow the log's last one (another writer won)."""


class IdempotencyConflict(SequenceConflict):
    """
    Another writer stored an answer for one of the idempotency keys first; nothing was
    written. As after a sequence conflict, the writer reads what won and decides again.
    """


class DuplicateToken(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    actor: str
    key: str
    request_hash: str
    status_code: int
    body: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    region_ids: Collection[str] | None = None
    type: AlertType | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    """Cursor: only alerts with a smaller id (the list runs newest first)."""
    limit: int = 100


class Store(Protocol):
    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision."""

    def close(self) -> None: ...

    def append(
        self, events: Sequence[Event], idempotency: Sequence[IdempotencyRecord] = ()
    ) -> None:
        """
        Durably append *events* (consecutive seqs after `last_seq()`) and the answers to
        their idempotency keys, all or nothing, in one transaction.

        A stored answer is never replaced: it is what every retry of the command must get.
        Raises `SequenceConflict` when the first event does not follow the log's last one,
        `IdempotencyConflict` when an answer for one of the keys is already stored.
        """

    def last_seq(self) -> int: ...

    def read_events(self, after: int = 0, limit: int = 1000) -> list[Event]:
        """Events with seq > *after*, in order, at most *limit*."""

    def history(self, query: HistoryQuery) -> list[Alert]:
        """Alerts (active and finished) matching *query*, newest first."""

    def find_idempotency(self, actor: str, key: str) -> IdempotencyRecord | None: ...

    def add_token(self, token: TokenRecord) -> None:
        """Raises `DuplicateToken` when the name is taken."""

    def find_token(self, token_hash: str) -> TokenRecord | None: ...

    def list_tokens(self) -> list[TokenRecord]: ...

    def revoke_token(self, name: str, now: datetime) -> bool:
        """Revoke by name; False when there is no such active token."""
