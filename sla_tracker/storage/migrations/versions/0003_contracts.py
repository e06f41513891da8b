"""Contracts (versioned fees) and closed indemnity periods.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "closed_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("amount", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("breach_seconds", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("closed_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_closed_period_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "contract_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("fee", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("tacit_renewal", sa.Boolean(), nullable=False),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contract_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contract_version_company_id"), ["company_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contract_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_version_company_id"))

    op.drop_table("contract_version")
    with op.batch_alter_table("closed_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closed_period_company_id"))

    op.drop_table("closed_period")
