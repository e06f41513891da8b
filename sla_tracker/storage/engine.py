"""Engines for a database URL: SQLite files (WAL, owner-only files) or PostgreSQL
(psycopg 3, keepalives), and the store's errors.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import URL, create_engine, event
from sqlalchemy import Engine as Engine  # re-exported: the handle passed to storage's queries
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class StoreError(Exception):
    """The database cannot be used as asked; the message says why and what to do."""


class SyncBusyError(StoreError):
    """Another sync holds the lock."""


def make_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; SQLite files get WAL and foreign keys on."""
    try:
        parsed = make_url(url)
    except Exception:  # sqlalchemy raises ArgumentError with the URL in it
        raise StoreError(
            f"database.url {url!r} is not a database URL (e.g. sqlite:///sla-tracker.db or "
            "postgresql+psycopg://user@host/db)"
        ) from None
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "do_connect", _owner_only_sqlite_file)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
        return engine
    liveness = {key: value for key, value in PG_LIVENESS.items() if key not in parsed.query}
    return create_engine(parsed, pool_pre_ping=True, connect_args=liveness)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions, so that DDL is
    # transactional too: a migration killed halfway leaves no half-made schema.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# A session whose server or network is gone fails within about 30 s instead of TCP's
# 15 minutes, so an active service notices it lost its lock (unless the URL says otherwise).
PG_LIVENESS = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def _owner_only_sqlite_file(
    _dialect: Any, _record: Any, args: list[Any], kwargs: dict[str, Any]
) -> None:
    """Create a new SQLite file as mode 0600 before SQLite does: it holds customer data, and
    SQLite gives its -wal and -shm files the database file's mode."""
    database = args[0] if args else None
    if isinstance(database, str) and database not in ("", ":memory:") and not kwargs.get("uri"):
        with contextlib.suppress(OSError):  # exists already, or SQLite reports the problem
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class LockLostError(StoreError):
    """This service instance no longer holds its lock: another one may be active."""


def owner_only(path: str, flags: int) -> int:
    """An ``open`` opener creating files as mode 0600: the tracker's databases, lock files
    and configs hold customer data or credentials."""
    return os.open(path, flags, 0o600)


DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


def check_database_url(url: str) -> str:
    """A SQLite or PostgreSQL (psycopg) URL: anything else would fail at the first query.

    Raises:
        ValueError: not a URL, or another database (the message says what is expected).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("not a database URL") from None
    if parsed.drivername not in DATABASE_DRIVERS:
        raise ValueError(
            "expected sqlite:///FILE or postgresql+psycopg://user@host/db (SQLite or PostgreSQL)"
        )
    return url


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite file at ``path``, quoted so that any folder name stays valid."""
    return URL.create("sqlite", database=str(path)).render_as_string()


def sqlite_folder(url: str) -> Path | None:
    """The folder a SQLite file URL needs to exist, or None (PostgreSQL, in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database == ":memory:":
        return None
    return Path(parsed.database or ".").parent
