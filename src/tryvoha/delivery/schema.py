"""
The webhook tables, on the same `MetaData` as the event log (revision `0003_webhooks`).

The event log is the webhooks' queue: a subscription row holds its durable cursor (the
newest seq it is done with: delivered, filtered out or dead-lettered) and the retry state of
the event after it. `webhook_dead_letters` keeps what was given up on, with a copy of the
event as sent. Times are epoch milliseconds, as in the core tables.

Subscriptions are deleted softly (`deleted_ms`), so their dead letters stay readable by id.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from tryvoha.storage.schema import metadata

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String, nullable=False),
    Column("owner", String, nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", String, nullable=False),
    Column("filters", Text, nullable=False),
    Column("format", String, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("deleted_ms", BigInteger, nullable=True),
    Column("cursor", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("failing_since_ms", BigInteger, nullable=True),
    Column("next_attempt_ms", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_attempt_ms", BigInteger, nullable=True),
    Column("last_success_ms", BigInteger, nullable=True),
    PrimaryKeyConstraint("id"),
    Index(None, "owner"),
)

webhook_dead_letters = Table(
    "webhook_dead_letters",
    metadata,
    Column("webhook_id", String, ForeignKey("webhooks.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("dead_ms", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    PrimaryKeyConstraint("webhook_id", "seq"),
)
