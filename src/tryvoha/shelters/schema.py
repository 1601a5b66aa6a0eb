"""
The `shelters` table, on the same `MetaData` as the event log (revision `0004_shelters`).

One row per shelter, keyed by the id its source gives it (an OpenStreetMap node such as
`node/3803383803`), so that importing a file again updates rows instead of adding them.
`source` is the name of the file a row came from; times are epoch milliseconds (UTC).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from tryvoha.storage.schema import metadata

shelters = Table(
    "shelters",
    metadata,
    Column("id", String, nullable=False),
    Column("name_uk", Text, nullable=False),
    Column("name_en", Text, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("kind", String, nullable=False),
    Column("source", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("id"),
    Index(None, "source"),
)
