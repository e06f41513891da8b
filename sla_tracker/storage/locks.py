"""Exclusive locks per database: the sync lock, the service's single active instance and
the migration lock (an advisory lock on PostgreSQL, an flock beside a SQLite file).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Engine,
    event,
    text,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import IO

    from sqlalchemy import Connection

from sla_tracker.storage.engine import LockLostError, SyncBusyError, owner_only


@contextlib.contextmanager
def sync_lock(engine: Engine, *, wait_seconds: float = 10.0) -> Iterator[None]:
    """Hold the one sync lock of this database, waiting briefly for another holder.

    Raises:
        SyncBusyError: the lock is still held after ``wait_seconds``.
    """
    deadline = time.monotonic() + wait_seconds
    with exclusive(engine, SYNC_LOCK_KEY, ".lock", on_busy=lambda: _wait_or_give_up(deadline)):
        yield


SYNC_LOCK_KEY = zlib.crc32(b"sla-tracker sync")


SERVICE_LOCK_KEY = zlib.crc32(b"sla-tracker service")


MIGRATION_LOCK_KEY = zlib.crc32(b"sla-tracker migration")


@contextlib.contextmanager
def service_lock(
    engine: Engine, *, holder: str, poll_seconds: float, on_standby: Callable[[], None]
) -> Iterator[HeldLock]:
    """Be the one active service of this database, waiting as a standby meanwhile.

    A standby takes over within one poll of the holder's death: the kernel drops a dead
    process's ``flock``, the PostgreSQL server its session's advisory lock (even on
    ``kill -9``). The holder's name is readable by ``lock_holder``.

    The lock can also be lost while this process lives (its PostgreSQL session terminated,
    a network cut, a failover; its lock file deleted), and a standby then takes over. So
    while it is held every transaction on ``engine`` first checks it (``LockLostError``
    when it is gone): an instance that lost the lock writes nothing more.
    """

    def standby() -> None:
        on_standby()
        time.sleep(poll_seconds)

    with exclusive(
        engine, SERVICE_LOCK_KEY, ".service.lock", on_busy=standby, holder=holder
    ) as lock:

        def fence(_connection: Connection) -> None:
            lock.check()

        event.listen(engine, "begin", fence, insert=True)
        try:
            yield lock
        finally:
            event.remove(engine, "begin", fence)


@contextlib.contextmanager
def exclusive(
    engine: Engine, key: int, suffix: str, *, on_busy: Callable[[], None], holder: str = ""
) -> Iterator[HeldLock]:
    """An exclusive lock per database: a session advisory lock on PostgreSQL (so holders on
    other machines count too), an ``flock`` on ``<database><suffix>`` for SQLite files.
    ``on_busy`` is called between attempts: it waits, or raises to give up."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            if holder:
                name = text("SELECT set_config('application_name', :n, false)")
                connection.execute(name, {"n": holder})
            key = schema_lock_key(connection, key)
            try_lock = text("SELECT pg_try_advisory_lock(:k)")
            while not connection.execute(try_lock, {"k": key}).scalar():
                on_busy()
            connection.commit()
            # From here on the lock's session is used through the driver, without SQLAlchemy's
            # events: checking or releasing the lock must not wait for its own check.
            session: Any = connection.connection.driver_connection
            lock = HeldLock(lambda: _session_holds(session, key))
            try:
                yield lock
            finally:
                if lock.held():
                    session.execute("SELECT pg_advisory_unlock(%s)", (key,))
                    session.commit()
                else:  # the session is gone: never hand it back to the pool
                    connection.invalidate()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield HeldLock(lambda: True)
        return
    path = database + suffix
    with _locked_file(path, on_busy) as handle:
        handle.seek(0)
        handle.truncate()
        handle.write(holder)
        handle.flush()
        try:
            yield HeldLock(lambda: _same_file(handle.fileno(), path))
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_holder(engine: Engine) -> str | None:
    """Who holds the service lock now, or None."""
    if engine.dialect.name == "postgresql":
        query = text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :k "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with engine.connect() as connection:
            key = schema_lock_key(connection, SERVICE_LOCK_KEY)
            return connection.execute(query, {"k": key % 2**32}).scalar()
    database = engine.url.database
    path = Path(f"{database}.service.lock")
    if not database or not path.exists():
        return None
    with path.open("r") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "another process"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def schema_lock_key(connection: Any, key: int) -> int:
    """Advisory locks are per PostgreSQL database; stores in two schemas of one database
    (``options=-csearch_path=…``) are two stores, so the lock key includes the schema."""
    schema = connection.execute(text("SELECT current_schema()")).scalar()
    return zlib.crc32(f"{key}:{schema}".encode())


def _wait_or_give_up(deadline: float) -> None:
    if time.monotonic() >= deadline:
        raise SyncBusyError(
            "another sync is running on this database; wait for it to finish (or stop it) "
            "and run again"
        )
    time.sleep(0.2)


class HeldLock:
    """An exclusive lock this process took, asked again whether it still holds it.

    Once found lost it stays lost: a reconnected PostgreSQL session or a recreated lock file
    is not the lock this process took.
    """

    def __init__(self, still_held: Callable[[], bool]) -> None:
        self._still_held = still_held
        self._mutex = threading.Lock()  # the jobs' threads share the lock's one session
        self._lost = False

    def held(self) -> bool:
        with self._mutex:
            if not self._lost:
                try:
                    self._lost = not self._still_held()
                except Exception:  # its session or file is unusable: it cannot vouch for it
                    self._lost = True
            return not self._lost

    def check(self) -> None:
        """Raises:
        LockLostError: the lock is gone.
        """
        if not self.held():
            raise LockLostError(
                "this instance lost the service lock (its database session or lock file is "
                "gone) and another instance may have taken over; it stops its jobs and waits as "
                "a standby"
            )


def _session_holds(session: Any, key: int) -> bool:
    """Whether this psycopg session is alive and holds the advisory lock ``key``."""
    row = session.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND pid = pg_backend_pid() AND classid = 0 AND objid = %s AND objsubid = 1",
        (key,),
    ).fetchone()
    session.commit()
    return bool(row and row[0])


def _locked_file(path: str, on_busy: Callable[[], None]) -> IO[str]:
    """Open and ``flock`` the file at ``path``: the one there now, not one deleted meanwhile
    (its lock would exclude nobody)."""
    while True:
        handle = open(path, "a+", opener=owner_only)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            on_busy()
            continue
        with contextlib.suppress(FileNotFoundError):
            if _same_file(handle.fileno(), path):
                return handle
        handle.close()


def _same_file(descriptor: int, path: str) -> bool:
    """Whether ``path`` is still the file this descriptor locked (not deleted or replaced)."""
    mine, now = os.fstat(descriptor), os.stat(path)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
