"""
Open the store named by `TRYVOHA_DATABASE_URL`.
"""

from __future__ import annotations

from tryvoha.storage.base import Store, StoreError
from tryvoha.storage.memory import MemoryStore
from tryvoha.storage.postgres import PostgresStore
from tryvoha.storage.sqlite import SQLiteStore


def open_store(url: str) -> Store:
    """
    A migrated store for *url*: `memory://`, `sqlite:///path.db`, a plain file path, or
    `postgresql://user@host:5432/dbname` for several nodes.
    """
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    store: Store
    if scheme == "memory":
        store = MemoryStore()
    elif scheme == "" or scheme == "sqlite" or scheme.startswith("sqlite+"):
        store = SQLiteStore(url)
    elif scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        store = PostgresStore(url)
    else:
        raise StoreError(
            f"unknown database URL scheme {scheme!r}: use sqlite:///, postgresql:// or memory://"
        )
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
