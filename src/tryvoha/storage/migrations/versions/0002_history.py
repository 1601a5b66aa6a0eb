"""
Imported alert history, the attacks register, and the record of imports.

Revision ID: 0002_history
Revises: 0003_webhooks
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_history"
# Chained after 0003_webhooks: two revisions of 0001 would give the log two heads, and
# `upgrade head` refuses to run then.
down_revision: str | None = "0003_webhooks"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# Spelled out rather than imported from `history/schema.py`: a revision must keep creating
# what it created when it was written.
_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "history_imports",
        sa.Column("id", _id, nullable=False, autoincrement=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("imported_ms", sa.BigInteger(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("revised", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_history_imports"),
    )
    op.create_table(
        "history_alerts",
        sa.Column("id", _id, nullable=False, autoincrement=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("region_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("finished_ms", sa.BigInteger(), nullable=False),
        sa.Column("subalerts", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_history_alerts"),
        sa.UniqueConstraint(
            "source",
            "region_id",
            "type",
            "started_ms",
            "finished_ms",
            name="uq_history_alerts_source_region_id_type_started_ms_finished_ms",
        ),
    )
    op.create_index("ix_history_alerts_started_ms", "history_alerts", ["started_ms"])
    op.create_table(
        "attacks",
        sa.Column("id", _id, nullable=False, autoincrement=True),
        sa.Column("row_key", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("time_start", sa.String(), nullable=False),
        sa.Column("time_end", sa.String(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("start_is_date", sa.Boolean(), nullable=False),
        sa.Column("end_is_date", sa.Boolean(), nullable=False),
        sa.Column("day", sa.String(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("weapon_class", sa.String(), nullable=False),
        sa.Column("launch_place", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("launched", sa.Integer(), nullable=True),
        sa.Column("destroyed", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("revisions", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attacks"),
        sa.UniqueConstraint("row_key", name="uq_attacks_row_key"),
    )
    op.create_index("ix_attacks_day", "attacks", ["day"])
    op.create_index("ix_attacks_start_ms", "attacks", ["start_ms"])


def downgrade() -> None:
    op.drop_index("ix_attacks_start_ms", table_name="attacks")
    op.drop_index("ix_attacks_day", table_name="attacks")
    op.drop_table("attacks")
    op.drop_index("ix_history_alerts_started_ms", table_name="history_alerts")
    op.drop_table("history_alerts")
    op.drop_table("history_imports")
