"""
Run the Alembic migrations from code: no `alembic.ini` is needed at run time.
"""

from __future__ import annotations

import importlib

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData

from tryvoha.storage.schema import metadata

SCRIPT_LOCATION = "tryvoha.storage:migrations"
"""The migrations as package data, found through importlib.resources by Alembic."""

SCHEMA_MODULES = (
    "tryvoha.storage.schema",
    "tryvoha.history.schema",
    "tryvoha.delivery.schema",
    "tryvoha.shelters.schema",
)
"""Every module that puts tables on `schema.metadata`; a new one must be listed here."""


def full_metadata() -> MetaData:
    """
    `schema.metadata` with the tables of every module in `SCHEMA_MODULES` on it.

    What autogenerate and the drift test compare the migrated database with.
    """
    for name in SCHEMA_MODULES:
        importlib.import_module(name)
    return metadata


def alembic_config(connection: Connection | None = None) -> Config:
    """
    An Alembic configuration for this package; *connection* is what `env.py` migrates.
    """
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


def upgrade(bind: Engine | Connection, revision: str = "head") -> None:
    """
    `alembic upgrade head` on *bind*, in one transaction.

    A connection already in a transaction is migrated inside it and the caller commits;
    otherwise the upgrade commits before returning.
    """
    if isinstance(bind, Engine):
        with bind.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    elif bind.in_transaction():
        command.upgrade(alembic_config(bind), revision)
    else:
        with bind.begin():
            command.upgrade(alembic_config(bind), revision)


def current_revision(bind: Engine | Connection) -> str | None:
    """
    The revision the database is at; None before the first migration.
    """
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    return MigrationContext.configure(bind).get_current_revision()
