"""Delivery intents: an alert's Message-ID and webhook key, a report's whole message, are
recorded before sending and marked sent once accepted, so a retry reuses them.

Existing reports were sent: they are recorded at their sending time, numbered per week.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_message_id", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("webhook_key", sa.String(), nullable=True))
    with op.batch_alter_table("report_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("copy_number", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("recorded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.String(), nullable=True))
        batch_op.alter_column("sent_at", existing_type=sa.DateTime(), nullable=True)
    op.execute(
        "UPDATE report_run SET recorded_at = sent_at, copy_number = (SELECT COUNT(*) "
        "FROM report_run AS earlier WHERE earlier.week = report_run.week "
        "AND earlier.id < report_run.id)"
    )
    with op.batch_alter_table("report_run", schema=None) as batch_op:
        batch_op.alter_column("recorded_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("copy_number", existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column("attempts", existing_type=sa.Integer(), server_default=None)
        batch_op.create_unique_constraint("uq_report_run_week_copy_number", ["week", "copy_number"])


def downgrade() -> None:
    op.execute("DELETE FROM report_run WHERE sent_at IS NULL")
    with op.batch_alter_table("report_run", schema=None) as batch_op:
        batch_op.drop_constraint("uq_report_run_week_copy_number", type_="unique")
        batch_op.alter_column("sent_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("recorded_at")
        batch_op.drop_column("message")
        batch_op.drop_column("copy_number")
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.drop_column("webhook_key")
        batch_op.drop_column("email_message_id")
