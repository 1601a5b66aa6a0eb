"""
The tables of the durable stores, in SQLAlchemy Core, portable to SQLite and PostgreSQL.

`events` is the log and the source of truth; `alerts` is the history projection, kept in the
same transaction as the events it follows from. Times are integer epoch milliseconds so
that both databases store them identically and exactly (the service rounds to ms).
Payloads are the JSON of `tryvoha.core.codec`; the other columns exist to be queried.

A change here needs a new revision in `migrations/versions/` (the test suite compares the
migrated database with this module).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

# Fixed constraint names, so that later migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite makes a column an alias of its rowid only when the type is exactly INTEGER: no
# second index to maintain on the hot path. SQLite integers are 64-bit anyway.
Seq = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

events = Table(
    "events",
    metadata,
    Column("seq", Seq, nullable=False, autoincrement=False),
    Column("kind", String, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", String, nullable=False),
    Column("region_id", String, nullable=False),
    Column("type", String, nullable=False),
    Column("alert_id", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),
    PrimaryKeyConstraint("seq"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Seq, nullable=False, autoincrement=False),
    Column("region_id", String, nullable=False),
    Column("type", String, nullable=False),
    Column("level", String, nullable=False),
    Column("source", String, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("finished_ms", BigInteger, nullable=True),
    Column("payload", Text, nullable=False),
    PrimaryKeyConstraint("id"),
    Index(None, "region_id", "type", "started_ms"),
    Index(None, "started_ms"),
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("actor", String, nullable=False),
    Column("key", String, nullable=False),
    Column("request_hash", String, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("actor", "key"),
    # Old keys are pruned by age.
    Index(None, "created_ms"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("name", String, nullable=False),
    Column("token_hash", String, nullable=False, unique=True),
    Column("role", String, nullable=False),
    Column("regions", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
    PrimaryKeyConstraint("name"),
)
