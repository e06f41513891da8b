"""The store on SQLite and PostgreSQL: migrations, UTC round trips, big ids, the sync lock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from sla_tracker.storage.engine import StoreError, SyncBusyError
from sla_tracker.storage.locks import sync_lock
from sla_tracker.storage.schema import needs_upgrade, open_store
from sla_tracker.storage.tables import Ticket, table_of

TABLES = {
    "company",
    "ticket",
    "status_transition",
    "ticket_change",
    "sync_run",
    "sync_state",
    "ticket_field",
}


def test_migrations_run_on_first_use(store_url: str) -> None:
    engine = open_store(store_url)
    assert TABLES <= set(inspect(engine).get_table_names())
    assert not needs_upgrade(engine)
    open_store(store_url)  # a second open is a no-op


def test_instants_come_back_as_the_same_utc_instant_and_ids_are_big(store_url: str) -> None:
    engine = open_store(store_url)
    created = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    row = {
        "id": 103_000_187_455,
        "status": 2,
        "created_at": created,
        "updated_at": created,
        "first_seen_at": created,
        "last_seen_at": created,
        "custom_fields": {"cf_gravite": "Bloquante"},
        "tags": ["é", "facturation"],
    }
    with engine.begin() as connection:
        connection.execute(table_of(Ticket).insert(), [row])
    with engine.connect() as connection:
        stored = connection.execute(select(table_of(Ticket))).mappings().one()
    assert stored["id"] == 103_000_187_455
    assert stored["created_at"] == created and stored["created_at"].tzinfo is UTC
    assert stored["custom_fields"] == {"cf_gravite": "Bloquante"} and stored["tags"] == [
        "é",
        "facturation",
    ]


def test_naive_instants_are_refused(store_url: str) -> None:
    engine = open_store(store_url)
    naive = datetime(2026, 1, 1)
    with (
        pytest.raises(Exception, match="refusing to store naive instant"),
        engine.begin() as connection,
    ):
        connection.execute(
            table_of(Ticket).insert(),
            [
                {
                    "id": 1,
                    "status": 2,
                    "created_at": naive,
                    "updated_at": naive,
                    "first_seen_at": naive,
                    "last_seen_at": naive,
                }
            ],
        )


def test_a_second_sync_waits_then_gives_up(store_url: str) -> None:
    engine = open_store(store_url)
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with sync_lock(engine):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    started = time.monotonic()
    with (
        pytest.raises(SyncBusyError, match="another sync is running"),
        sync_lock(engine, wait_seconds=0.5),
    ):
        pass
    assert time.monotonic() - started >= 0.5
    release.set()
    thread.join()
    with sync_lock(engine, wait_seconds=0.5):  # free again
        pass


def test_a_bad_url_is_explained() -> None:
    with pytest.raises(StoreError, match="is not a database URL"):
        open_store("not a url")


def test_an_unreachable_database_is_explained() -> None:
    with pytest.raises(StoreError, match="cannot open the database postgresql"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")


def test_each_migration_is_named_after_its_revision_and_the_head_is_the_last() -> None:
    """``schema.HEAD`` is read from file names (no Alembic import on every command)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from sla_tracker.storage.schema import HEAD, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    for script in scripts.walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_")
    assert scripts.get_current_head() == HEAD
