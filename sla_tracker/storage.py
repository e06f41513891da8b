"""The store: SQLModel tables, engine creation, migrations and the sync lock.

SQLite by default (WAL), PostgreSQL by URL (psycopg 3). Every instant is stored as naive
UTC and read back as aware UTC, the same on both databases. The schema is owned by the
Alembic migrations in ``sla_tracker/migrations``; they run on first use and by
``sla-tracker db upgrade``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
import zlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import make_url
from sqlalchemy.types import NullType, TypeDecorator
from sqlmodel import Field, SQLModel, create_engine

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import IO

    from sqlalchemy import Connection
    from sqlalchemy.engine.interfaces import Dialect

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(Exception):
    """The database cannot be used as asked; the message says why and what to do."""


class SyncBusyError(StoreError):
    """Another sync holds the lock."""


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database, identical on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"refusing to store naive instant {value.isoformat()}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # The sync binds ~20 instants per ticket: on SQLite, write SQLAlchemy's own text
        # format in one step instead of two processors (a fifth of a full sync's time).
        def to_text(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError(f"refusing to store naive instant {value.isoformat()}")
            if value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            # isoformat is C: "2026-11-26 12:00:00.000000", SQLAlchemy's own SQLite layout.
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")

        return to_text

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # Reading every clock's history parses ~4 instants per ticket: fromisoformat is C.
        def from_text(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)

        return from_text

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Money(TypeDecorator[Decimal]):
    """Exact decimal amounts as text: SQLite has no decimal type and would round to floats."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(Decimal(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _instant(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _big_id(*, primary_key: bool = False, index: bool = False, nullable: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=Column(
            BigInteger(),
            primary_key=primary_key,
            index=index,
            nullable=nullable and not primary_key,
            autoincrement=False,
        ),
    )


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSON()))


class Company(SQLModel, table=True):
    id: int = _big_id(primary_key=True)
    name: str
    domains: list[str] | None = _json()
    custom_fields: dict[str, Any] | None = _json()
    account_tier: str | None = None
    created_at: datetime | None = _instant()
    updated_at: datetime | None = _instant()
    raw: dict[str, Any] | None = _json()


class Ticket(SQLModel, table=True):
    """The latest snapshot of a Freshdesk ticket, with our own flags."""

    id: int = _big_id(primary_key=True)
    subject: str | None = None
    description_text: str | None = None
    status: int
    priority: int | None = None
    source: int | None = None
    type: str | None = None
    tags: list[str] | None = _json()
    custom_fields: dict[str, Any] | None = _json()
    requester_id: int | None = _big_id()
    responder_id: int | None = _big_id()
    group_id: int | None = _big_id()
    company_id: int | None = _big_id(index=True)
    product_id: int | None = _big_id()
    created_at: datetime = _instant(nullable=False, index=True)
    updated_at: datetime = _instant(nullable=False, index=True)
    due_by: datetime | None = _instant()
    fr_due_by: datetime | None = _instant()
    nr_due_by: datetime | None = _instant()
    is_escalated: bool = False
    fr_escalated: bool = False
    nr_escalated: bool = False
    first_responded_at: datetime | None = _instant()
    agent_responded_at: datetime | None = _instant()
    requester_responded_at: datetime | None = _instant()
    status_updated_at: datetime | None = _instant()
    pending_since: datetime | None = _instant()
    reopened_at: datetime | None = _instant()
    resolved_at: datetime | None = _instant()
    closed_at: datetime | None = _instant()
    spam: bool = False
    deleted: bool = False
    gone: bool = False  # hard-deleted: 404 on view; local history kept
    first_seen_at: datetime = _instant(nullable=False)
    last_seen_at: datetime = _instant(nullable=False)
    rule_fingerprint: str | None = None  # the rule set rule_verdict was computed with
    rule_verdict: dict[str, Any] | None = _json()  # the rules' classification (people apart)
    raw: dict[str, Any] | None = _json()


class StatusTransition(SQLModel, table=True):
    __tablename__ = "status_transition"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _big_id(index=True, nullable=False)
    from_status: int | None = None
    to_status: int
    at: datetime = _instant(nullable=False)
    observed_at: datetime = _instant(nullable=False)
    kind: str  # observed | inferred | gap
    evidence: str
    # A late snapshot re-derives the ticket's history: the transitions it replaces stay,
    # marked superseded, so that ``--as-of`` still answers as the tracker did then.
    superseded_at: datetime | None = _instant()


class QuarantinedRecord(SQLModel, table=True):
    """A Freshdesk record that could not be stored as it is: kept raw with the reason.

    One bad record never stops ingestion: the rest of its page is stored, the watermark
    moves past it, and each poll retries it (by id) until a valid version arrives.
    """

    __tablename__ = "quarantined_record"
    __table_args__ = (UniqueConstraint("kind", "record_key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # ticket | company
    record_key: str  # the record's id, or a digest of its JSON when it has no usable id
    ticket_id: int | None = _big_id()  # the id to re-read, when it is one
    raw: str  # the record as received (JSON text; secrets never travel in records)
    reason: str
    first_seen_at: datetime = _instant(nullable=False)
    last_seen_at: datetime = _instant(nullable=False)
    attempts: int = 1
    resolved_at: datetime | None = _instant()


class TicketSnapshot(SQLModel, table=True):
    """The status facts of one version of a ticket (one ``updated_at``), as first received.

    Freshdesk gives snapshots, not events: keeping every version lets the status history be
    derived from all of them in ``updated_at`` order, whatever order they arrived in.
    """

    __tablename__ = "ticket_snapshot"
    __table_args__ = (UniqueConstraint("ticket_id", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _big_id(index=True, nullable=False)
    updated_at: datetime = _instant(nullable=False)
    observed_at: datetime = _instant(nullable=False)
    status: int
    created_at: datetime = _instant(nullable=False)
    status_updated_at: datetime | None = _instant()
    pending_since: datetime | None = _instant()
    resolved_at: datetime | None = _instant()
    closed_at: datetime | None = _instant()
    reopened_at: datetime | None = _instant()


class CustomerReply(SQLModel, table=True):
    """One customer reply instant the tracker observed (SPEC §4: every reply counts).

    ``requester_responded_at`` only holds the latest reply: each value it takes, and replies
    read from the conversations, are kept here so that a later reply never moves an earlier
    pause's end.
    """

    __tablename__ = "customer_reply"
    __table_args__ = (UniqueConstraint("ticket_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _big_id(index=True, nullable=False)
    at: datetime = _instant(nullable=False)
    observed_at: datetime = _instant(nullable=False)
    source: str  # stats.requester_responded_at | conversation


class TicketChange(SQLModel, table=True):
    """What one poll changed on one ticket: ``{field: [old, new]}``."""

    __tablename__ = "ticket_change"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _big_id(index=True, nullable=False)
    sync_run_id: int | None = Field(default=None, index=True)
    observed_at: datetime = _instant(nullable=False)
    changes: dict[str, Any] = _json()


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    started_at: datetime = _instant(nullable=False)
    finished_at: datetime | None = _instant()
    outcome: str = "running"  # running | ok | failed (a killed run stays "running")
    pages: int = 0
    api_calls: int = 0
    credits: int = 0
    tickets_new: int = 0
    tickets_updated: int = 0
    transitions: int = 0
    errors: str | None = None


class SyncState(SQLModel, table=True):
    """Per pass: the watermark (greatest ``updated_at`` committed) and when it last ran."""

    __tablename__ = "sync_state"

    pass_name: str = Field(primary_key=True)
    watermark: datetime | None = _instant()
    last_run_at: datetime | None = _instant()


class TicketField(SQLModel, table=True):
    """Freshdesk's ticket_fields, cached: status and source labels, custom statuses."""

    __tablename__ = "ticket_field"

    id: int = _big_id(primary_key=True)
    name: str
    label: str | None = None
    type: str | None = None
    choices: Any = _json()
    fetched_at: datetime = _instant(nullable=False)


class ClassificationOverride(SQLModel, table=True):
    """A person's decision on one classification dimension (append-only, SPEC §3)."""

    __tablename__ = "classification_override"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _big_id(index=True, nullable=False)
    dimension: str  # severity | gtr_object | external_link | non_standard_fields
    value: str
    by: str
    at: datetime = _instant(nullable=False)
    reason: str


class ExclusionRecord(SQLModel, table=True):
    """C11: an exclusion recorded on a ticket (or an interval of it), or its revocation."""

    __tablename__ = "exclusion"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _big_id(index=True, nullable=False)
    action: str  # exclude | revoke
    reason: str
    note: str | None = None
    starts_at: datetime | None = _instant()
    ends_at: datetime | None = _instant()
    by: str
    at: datetime = _instant(nullable=False)


class ContractVersion(SQLModel, table=True):
    """C13: one version of a customer's contract terms; new versions never overwrite old ones."""

    __tablename__ = "contract_version"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = _big_id(index=True, nullable=False)
    fee: Decimal = Field(sa_column=Column(Money(), nullable=False))
    currency: str = "EUR"
    period: str  # monthly | annual | two_years
    start_on: date
    effective_on: date  # when this fee applies: the start or a renewal date
    tacit_renewal: bool = True
    terminated_on: date | None = None
    recorded_at: datetime = _instant(nullable=False)
    by: str


class ClosedPeriod(SQLModel, table=True):
    """An indemnity frozen by ``period close``: later changes become adjustments, not rewrites."""

    __tablename__ = "closed_period"

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = _big_id(index=True, nullable=False)
    period_start: datetime = _instant(nullable=False)
    period_end: datetime = _instant(nullable=False)
    amount: Decimal = Field(sa_column=Column(Money(), nullable=False))
    currency: str
    breach_seconds: int
    detail: dict[str, Any] | None = _json()
    closed_at: datetime = _instant(nullable=False)
    by: str


class ReportRun(SQLModel, table=True):
    """A weekly report: recorded with its whole message before sending, marked sent once the
    SMTP server accepted it, so a retry sends the same message and no rerun sends a new one."""

    __tablename__ = "report_run"
    __table_args__ = (UniqueConstraint("week", "copy_number"),)

    id: int | None = Field(default=None, primary_key=True)
    week: str = Field(index=True)  # 2026-W48
    copy_number: int = 0  # 0 the report, then 1, 2… for each copy sent with --force
    recipients: list[str] = _json()
    message_id: str
    message: str | None = Field(default=None, sa_column=Column(Text()))  # RFC 5322, as sent
    recorded_at: datetime = _instant(nullable=False)
    sent_at: datetime | None = _instant()  # None: recorded, not confirmed by the server
    attempts: int = 0
    last_error: str | None = None


class AlertEvent(SQLModel, table=True):
    """One alert: recorded before sending, marked sent per channel once accepted."""

    __tablename__ = "alert_event"
    __table_args__ = (UniqueConstraint("ticket_id", "clock", "kind", "threshold"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _big_id(index=True, nullable=False)
    clock: str  # response | restoration
    kind: str  # threshold | breach | gtr_accruing
    threshold: int = 0  # percent for "threshold" events, 0 otherwise
    detail: dict[str, Any] | None = _json()
    recorded_at: datetime = _instant(nullable=False)
    email_message_id: str | None = None  # recorded before the first try, kept for retries
    email_sent_at: datetime | None = _instant()
    webhook_key: str | None = None  # the webhook's idempotency key, likewise
    webhook_sent_at: datetime | None = _instant()
    attempts: int = 0
    last_error: str | None = None


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for bulk statements on the hot paths."""
    return cast("Table", model.__table__)  # type: ignore[attr-defined]


def fetch_rows(
    connection: Connection, columns: Sequence[Column[Any]], *criteria: Any, order_by: Sequence[Any]
) -> list[list[Any]]:
    """Rows of ``columns`` with instants (aware UTC), JSON and booleans converted here.

    The clock engine reads every ticket and transition: SQLAlchemy's per-value type
    processing cost about three times the query itself, so the bulk reads skip it and
    convert in one tight pass. Raw values differ by driver (SQLite gives text, psycopg
    gives objects); both are handled.
    """
    raw = [type_coerce(column, NullType()).label(column.name) for column in columns]
    result = connection.execute(select(*raw).where(*criteria).order_by(*order_by)).all()
    converters = [
        (index, converter)
        for index, column in enumerate(columns)
        if (converter := _RAW_CONVERTERS.get(type(column.type))) is not None
    ]
    rows = []
    for values in result:
        row = list(values)
        for index, convert in converters:
            if row[index] is not None:
                row[index] = convert(row[index])
        rows.append(row)
    return rows


def _instant_from_db(value: str | datetime) -> datetime:
    return (datetime.fromisoformat(value) if isinstance(value, str) else value).replace(tzinfo=UTC)


def _json_from_db(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_RAW_CONVERTERS: dict[type[Any], Callable[[Any], Any]] = {
    UTCDateTime: _instant_from_db,
    JSON: _json_from_db,
    Boolean: bool,
}


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


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def needs_upgrade(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() != head


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration (a no-op when it is there).

    Processes starting together on a fresh database (replicas, a command beside the service)
    take turns under a migration lock and look again once they hold it: the first migrates,
    the others find the schema done instead of colliding on the same DDL.
    """
    if not needs_upgrade(engine):
        return
    pause = 0.1  # a migration lasts seconds at most
    with _exclusive(engine, MIGRATION_LOCK_KEY, ".migrate.lock", on_busy=lambda: time.sleep(pause)):
        if needs_upgrade(engine):
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


@contextlib.contextmanager
def sync_lock(engine: Engine, *, wait_seconds: float = 10.0) -> Iterator[None]:
    """Hold the one sync lock of this database, waiting briefly for another holder.

    Raises:
        SyncBusyError: the lock is still held after ``wait_seconds``.
    """
    deadline = time.monotonic() + wait_seconds
    with _exclusive(engine, SYNC_LOCK_KEY, ".lock", on_busy=lambda: _wait_or_give_up(deadline)):
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

    with _exclusive(
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
def _exclusive(
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
            return connection.execute(query, {"k": SERVICE_LOCK_KEY % 2**32}).scalar()
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


def _wait_or_give_up(deadline: float) -> None:
    if time.monotonic() >= deadline:
        raise SyncBusyError(
            "another sync is running on this database; wait for it to finish (or stop it) "
            "and run again"
        )
    time.sleep(0.2)


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


def owner_only(path: str, flags: int) -> int:
    """An ``open`` opener creating files as mode 0600: the tracker's databases, lock files
    and configs hold customer data or credentials."""
    return os.open(path, flags, 0o600)
