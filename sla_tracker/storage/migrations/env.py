"""Alembic environment: runs migrations on the engine the tracker hands over."""

from __future__ import annotations

from alembic import context

from sla_tracker.storage.tables import METADATA

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        render_as_batch=True,  # SQLite can only alter tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()
