"""Stale judgments found without scanning: the tickets writers changed, and the settings the
kept judgments were last made with.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "judgment_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_judgment_dirty_ticket_id", "judgment_dirty", ["ticket_id"])
    op.create_table(
        "judgment_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_judgment_valid_until", "ticket_judgment", ["valid_until"])
    op.create_index("ix_ticket_judgment_judged_at", "ticket_judgment", ["judged_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_judgment_judged_at", "ticket_judgment")
    op.drop_index("ix_ticket_judgment_valid_until", "ticket_judgment")
    op.drop_table("judgment_state")
    op.drop_table("judgment_dirty")
