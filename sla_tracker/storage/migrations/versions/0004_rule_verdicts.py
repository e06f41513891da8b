"""Rule verdicts kept beside each ticket, with the fingerprint of the rules.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_fingerprint", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("rule_verdict", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("rule_verdict")
        batch_op.drop_column("rule_fingerprint")
