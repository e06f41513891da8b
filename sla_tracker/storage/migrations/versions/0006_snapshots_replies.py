"""Every ticket version's status facts, every customer reply, superseded transitions.

Existing databases start their snapshot log and reply log from the stored tickets.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status_updated_at", sa.DateTime(), nullable=True),
        sa.Column("pending_since", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("reopened_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "updated_at"),
    )
    with op.batch_alter_table("ticket_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_snapshot_ticket_id"), ["ticket_id"], unique=False
        )
    op.create_table(
        "customer_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "at"),
    )
    with op.batch_alter_table("customer_reply", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_reply_ticket_id"), ["ticket_id"], unique=False
        )
    with op.batch_alter_table("status_transition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_at", sa.DateTime(), nullable=True))
    op.execute(
        "INSERT INTO ticket_snapshot (ticket_id, updated_at, observed_at, status, created_at, "
        "status_updated_at, pending_since, resolved_at, closed_at, reopened_at) "
        "SELECT id, updated_at, last_seen_at, status, created_at, status_updated_at, "
        "pending_since, resolved_at, closed_at, reopened_at FROM ticket"
    )
    op.execute(
        "INSERT INTO customer_reply (ticket_id, at, observed_at, source) "
        "SELECT id, requester_responded_at, last_seen_at, 'stats.requester_responded_at' "
        "FROM ticket WHERE requester_responded_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("status_transition", schema=None) as batch_op:
        batch_op.drop_column("superseded_at")
    with op.batch_alter_table("customer_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_reply_ticket_id"))
    op.drop_table("customer_reply")
    with op.batch_alter_table("ticket_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_snapshot_ticket_id"))
    op.drop_table("ticket_snapshot")
