"""An index on the kept judgments' creation instants, for the weekly report's trend.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_judgment_created_at", "ticket_judgment", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_judgment_created_at", "ticket_judgment")
