"""The schema's migrations (Alembic, in ``storage/migrations``): run on first use and by
``sla-tracker db upgrade``, one process at a time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sla_tracker.storage.engine import StoreError, make_engine
from sla_tracker.storage.locks import MIGRATION_LOCK_KEY, exclusive

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Revisions are named after their files (0001_….py has revision "0001"; a test holds every
# file to it), so the head is known without importing Alembic and every migration script:
# a read command opening an up-to-date store pays one query, not a quarter of a second.
HEAD = max(path.name.split("_")[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def needs_upgrade(engine: Engine) -> bool:
    with engine.connect() as connection:
        try:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:  # no version table yet: a new database
            return True
    return current != HEAD


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration (a no-op when it is there).

    Processes starting together on a fresh database (replicas, a command beside the service)
    take turns under a migration lock and look again once they hold it: the first migrates,
    the others find the schema done instead of colliding on the same DDL.
    """
    if not needs_upgrade(engine):
        return
    pause = 0.1  # a migration lasts seconds at most
    with exclusive(engine, MIGRATION_LOCK_KEY, ".migrate.lock", on_busy=lambda: time.sleep(pause)):
        if needs_upgrade(engine):
            from alembic import command

            command.upgrade(_alembic_config(engine), "head")


def open_store(url: str) -> Engine:
    """Engine with its schema up to date: migrations run automatically on first use."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    except Exception as error:
        if isinstance(error, StoreError):
            raise
        reason = str(getattr(error, "orig", error)).strip().splitlines()[0]
        raise StoreError(
            f"cannot open the database {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None
    return engine
