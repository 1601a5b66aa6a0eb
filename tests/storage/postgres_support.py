"""
A throwaway PostgreSQL schema for tests: created on the local server, dropped afterwards.

The server is `TRYVOHA_TEST_POSTGRES_URL` (default: user `postgres`, trust auth, database
`test` on 127.0.0.1:5432). Each schema gets a random name and every connection of the
scoped URL has it as its `search_path`, so test runs never see each other's tables.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, create_engine, inspect, make_url, text

from tests.backends import require_service

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> URL:
    url = make_url(os.environ.get("TRYVOHA_TEST_POSTGRES_URL", DEFAULT_URL))
    return url.set(drivername="postgresql+psycopg")


def require_postgres() -> URL:
    """The test server's URL; fails in CI and skips elsewhere when nothing listens."""
    url = server_url()
    require_service("PostgreSQL", url.host or "127.0.0.1", url.port or 5432)
    return url


def with_schema(url: URL, schema: str) -> URL:
    return url.update_query_dict({"options": f"-csearch_path={schema}"})


@contextmanager
def throwaway_schema(prefix: str = "tryvoha_test") -> Iterator[URL]:
    """
    A new empty schema; yields the URL whose connections use it. Dropped on exit.
    """
    url = require_postgres()
    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield with_schema(url, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def empty_tables(url: URL) -> None:
    """Remove every row of the schema's tables but the migration record."""
    engine = create_engine(url)
    try:
        names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
        if names:
            quoted = ", ".join(f'"{n}"' for n in names)
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
