"""Kept judgments: each ticket's clocks as computed after its last event.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_judgment",
        sa.Column("ticket_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("judged_at", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("group_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("responder_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("response_breach_at", sa.DateTime(), nullable=True),
        sa.Column("restoration_breach_at", sa.DateTime(), nullable=True),
        sa.Column("response_risk_at", sa.DateTime(), nullable=True),
        sa.Column("restoration_risk_at", sa.DateTime(), nullable=True),
        sa.Column("next_deadline", sa.DateTime(), nullable=True),
        sa.Column("waiting_remaining", sa.Integer(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_ticket_judgment_company_id", "ticket_judgment", ["company_id"])
    op.create_index("ix_ticket_judgment_next_deadline", "ticket_judgment", ["next_deadline"])


def downgrade() -> None:
    op.drop_table("ticket_judgment")
