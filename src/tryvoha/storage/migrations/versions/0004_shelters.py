"""
Shelters for the map's "nearest shelter".

Revision ID: 0004_shelters
Revises: 0002_history
Create Date: 2025-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_shelters"
down_revision: str | None = "0002_history"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

# Spelled out rather than imported from `shelters/schema.py`: a revision must keep creating
# what it created when it was written.


def upgrade() -> None:
    op.create_table(
        "shelters",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name_uk", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shelters"),
    )
    op.create_index("ix_shelters_source", "shelters", ["source"])


def downgrade() -> None:
    op.drop_index("ix_shelters_source", table_name="shelters")
    op.drop_table("shelters")
