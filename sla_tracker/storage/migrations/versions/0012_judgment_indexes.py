"""Indexes for the listings on kept judgments: open tickets in deadline order, and the
instants where a clock is at risk or breached.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_ticket_judgment_open_deadline": ["open", "next_deadline"],
    "ix_ticket_judgment_response_risk_at": ["response_risk_at"],
    "ix_ticket_judgment_restoration_risk_at": ["restoration_risk_at"],
    "ix_ticket_judgment_response_breach_at": ["response_breach_at"],
    "ix_ticket_judgment_restoration_breach_at": ["restoration_breach_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "ticket_judgment", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, "ticket_judgment")
