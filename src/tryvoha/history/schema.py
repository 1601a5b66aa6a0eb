"""
The tables of imported history, on the same `MetaData` as the event log (revision
`0002_history`).

`history_alerts` holds alert intervals from imported files, each marked with its `source`
(`official` for the official CSVs, `official-parquet` for the derived parquet); the server's
own alerts stay in the core `alerts` table. `attacks` is the register of launches from the
attacks dataset, keyed by the fields upstream identifies a row by, so that a re-import of a
revised file updates rows instead of adding them. `history_imports` records every import,
and its largest id is the version that cached statistics are keyed by.

Times are epoch milliseconds (UTC), as in the core tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tryvoha.storage.schema import Seq, metadata

history_imports = Table(
    "history_imports",
    metadata,
    Column("id", Seq, nullable=False, autoincrement=True),
    Column("kind", String, nullable=False),
    Column("source", String, nullable=False),
    Column("file_name", Text, nullable=False),
    Column("imported_ms", BigInteger, nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("imported", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("revised", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    PrimaryKeyConstraint("id"),
)

history_alerts = Table(
    "history_alerts",
    metadata,
    Column("id", Seq, nullable=False, autoincrement=True),
    Column("source", String, nullable=False),
    Column("region_id", String, nullable=False),
    Column("type", String, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    Column("finished_ms", BigInteger, nullable=False),
    # Set for rows merged upstream from several alerts (the parquet's `n_subalerts`).
    Column("subalerts", Integer, nullable=True),
    Column("import_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("source", "region_id", "type", "started_ms", "finished_ms"),
    Index(None, "started_ms"),
)

attacks = Table(
    "attacks",
    metadata,
    Column("id", Seq, nullable=False, autoincrement=True),
    # Hash of (time_start, time_end, model, launch_place, target, source) as written.
    Column("row_key", String, nullable=False),
    Column("content_hash", String, nullable=False),
    Column("time_start", String, nullable=False),
    Column("time_end", String, nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),
    Column("start_is_date", Boolean, nullable=False),
    Column("end_is_date", Boolean, nullable=False),
    # The attack day (YYYY-MM-DD): from 18:00 Kyiv time the evening before to 18:00.
    Column("day", String, nullable=False),
    Column("model", Text, nullable=False),
    Column("weapon_class", String, nullable=False),
    Column("launch_place", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("launched", Integer, nullable=True),
    Column("destroyed", Integer, nullable=True),
    # The whole upstream row as JSON, so that no column is lost.
    Column("payload", Text, nullable=False),
    Column("revisions", Integer, nullable=False),
    Column("import_id", BigInteger, nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("row_key"),
    Index(None, "day"),
    Index(None, "start_ms"),
)
