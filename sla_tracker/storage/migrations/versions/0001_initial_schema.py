"""Initial schema: companies, tickets, status transitions, change log, sync runs and state.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=True),
        sa.Column("account_tier", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "status_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("from_status", sa.Integer(), nullable=True),
        sa.Column("to_status", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("evidence", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("status_transition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_transition_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("tickets_new", sa.Integer(), nullable=False),
        sa.Column("tickets_updated", sa.Integer(), nullable=False),
        sa.Column("transitions", sa.Integer(), nullable=False),
        sa.Column("errors", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sync_state",
        sa.Column("pass_name", sa.String(), nullable=False),
        sa.Column("watermark", sa.DateTime(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("pass_name"),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("description_text", sa.String(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("source", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=True),
        sa.Column("requester_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("responder_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("group_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("company_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("product_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("due_by", sa.DateTime(), nullable=True),
        sa.Column("fr_due_by", sa.DateTime(), nullable=True),
        sa.Column("nr_due_by", sa.DateTime(), nullable=True),
        sa.Column("is_escalated", sa.Boolean(), nullable=False),
        sa.Column("fr_escalated", sa.Boolean(), nullable=False),
        sa.Column("nr_escalated", sa.Boolean(), nullable=False),
        sa.Column("first_responded_at", sa.DateTime(), nullable=True),
        sa.Column("agent_responded_at", sa.DateTime(), nullable=True),
        sa.Column("requester_responded_at", sa.DateTime(), nullable=True),
        sa.Column("status_updated_at", sa.DateTime(), nullable=True),
        sa.Column("pending_since", sa.DateTime(), nullable=True),
        sa.Column("reopened_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("spam", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "ticket_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_change_sync_run_id"), ["sync_run_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ticket_change_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "ticket_field",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=True),
        sa.Column("type", sa.String(), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ticket_field")
    with op.batch_alter_table("ticket_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_change_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_change_sync_run_id"))

    op.drop_table("ticket_change")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_updated_at"))
        batch_op.drop_index(batch_op.f("ix_ticket_created_at"))
        batch_op.drop_index(batch_op.f("ix_ticket_company_id"))

    op.drop_table("ticket")
    op.drop_table("sync_state")
    op.drop_table("sync_run")
    with op.batch_alter_table("status_transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_transition_ticket_id"))

    op.drop_table("status_transition")
    op.drop_table("company")
