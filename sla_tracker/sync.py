"""Freshdesk → store: the incremental sync (freshdesk-api.md §10), crash-safe and idempotent.

Passes: tickets (every run), deleted and spam tickets (every ``sync.deleted_spam_minutes``),
companies and ticket_fields (every ``sync.reference_refresh_hours``), and a reconciliation
of tickets held open locally that no update covered (every ``sync.reconcile_minutes``).

The ticket passes never page deep: after each full page they ask for page 1 again from the
last ``updated_at`` seen, dropping the ids already stored at that exact second, so the
300-page wall and rows shifting between pages cannot lose a ticket. Each page is stored,
with its status transitions, change log and the pass's watermark, in one transaction: a
sync killed at any point and run again ends with the same data as one never interrupted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from sla_tracker.config import ConfigError, redact
from sla_tracker.core.instants import format_instant
from sla_tracker.core.timeline import StatusFacts, Transition, detect_transitions
from sla_tracker.helpdesk.freshdesk.client import (
    MAX_PAGE,
    FreshdeskNotFoundError,
    FreshdeskValidationError,
)
from sla_tracker.helpdesk.freshdesk.mapping import (
    SNAPSHOT_FIELDS,
    RecordError,
    changed_fields,
    company_row,
    instant,
    jsonable,
    record_id,
    status_facts,
    ticket_row,
)
from sla_tracker.storage.locks import sync_lock
from sla_tracker.storage.tables import (
    Company,
    CustomerReply,
    QuarantinedRecord,
    StatusTransition,
    SyncRun,
    SyncState,
    Ticket,
    TicketChange,
    TicketField,
    TicketSnapshot,
    table_of,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from sqlalchemy import Connection, Engine, Table
    from sqlmodel import SQLModel

    from sla_tracker.config import Settings
    from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient

TICKETS, DELETED, SPAM = "tickets", "deleted", "spam"
COMPANIES, TICKET_FIELDS, RECONCILE = "companies", "ticket_fields", "reconcile"
LIST_INCLUDE = "stats,description"  # 5 credits a call; descriptions feed classification
TICKET_TABLE = table_of(Ticket)
STATE_TABLE = table_of(SyncState)
RUN_TABLE = table_of(SyncRun)
SNAPSHOT_TABLE = table_of(TicketSnapshot)
REPLY_TABLE = table_of(CustomerReply)
QUARANTINE_TABLE = table_of(QuarantinedRecord)
log = logging.getLogger(__name__)


class SyncError(Exception):
    """The sync cannot go on; nothing half-done was committed."""


@dataclass
class SyncSummary:
    mode: str
    passes: list[str] = field(default_factory=list)
    tickets_new: int = 0
    tickets_updated: int = 0
    transitions: int = 0
    deleted: int = 0
    spam: int = 0
    gone: int = 0
    quarantined: int = 0
    companies: int = 0
    pages: int = 0
    api_calls: int = 0
    credits: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"Synced in {self.seconds:.1f} s ({', '.join(self.passes)}): "
            f"{self.tickets_new:,} new and {self.tickets_updated:,} updated tickets, "
            f"{self.transitions:,} status transitions, {self.deleted} deleted, {self.spam} spam, "
            f"{self.gone} gone, {self.companies} companies"
            + (f", {self.quarantined} quarantined records" if self.quarantined else "")
            + "; "
            f"{self.api_calls:,} API calls, {self.credits:,} credits"
        )


@dataclass
class _Run:
    client: FreshdeskClient
    engine: Engine
    settings: Settings
    now: datetime
    report: SyncSummary
    run_id: int
    progress: Callable[[int], None]


def sync_once(
    client: FreshdeskClient,
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    full: bool = False,
    since: datetime | None = None,
    reconcile: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SyncSummary:
    """Run the passes that are due; the CLI and the scheduler both call this.

    Raises:
        SyncBusyError: another sync holds the lock.
        ConfigError: first sync without ``sync.start_date`` (or ``since``).
        SyncError, FreshdeskError: the run failed; it is recorded as failed.
    """
    mode = "full" if full else "since" if since else "reconcile" if reconcile else "incremental"
    started = time.monotonic()
    calls_before, credits_before = client.counter.api_calls, client.counter.credits
    with sync_lock(engine, wait_seconds=settings.sync.lock_wait_seconds):
        report = SyncSummary(mode)
        run = _Run(client, engine, settings, now, report, _start_run(engine, mode, now),
                   progress or (lambda _count: None))  # fmt: skip
        outcome, error = "failed", None
        try:
            _run_passes(run, full=full, since=since, reconcile=reconcile)
            outcome = "ok"
        except Exception as failure:
            error = redact(str(failure))  # sync_run.errors never keeps a credential
            raise
        finally:
            report.api_calls = client.counter.api_calls - calls_before
            report.credits = client.counter.credits - credits_before
            report.seconds = time.monotonic() - started
            _finish_run(run, outcome=outcome, error=error)
    return report


def _run_passes(run: _Run, *, full: bool, since: datetime | None, reconcile: bool) -> None:
    sync = run.settings.sync
    last = _last_runs(run.engine)
    cursor = since or (_start(sync.start_date) if full else None)
    _ticket_pass(run, TICKETS, None, cursor)
    if full or _due(last.get(DELETED), run.now, minutes=sync.deleted_spam_minutes):
        _ticket_pass(run, DELETED, "deleted", cursor)
        _ticket_pass(run, SPAM, "spam", cursor)
    if full or _due(last.get(COMPANIES), run.now, minutes=sync.reference_refresh_hours * 60):
        _companies_pass(run)
        _ticket_fields_pass(run)
    if reconcile or _due(last.get(RECONCILE), run.now, minutes=sync.reconcile_minutes):
        _reconcile_pass(run)
    _retry_quarantined(run)
    table = QUARANTINE_TABLE
    still_bad = select(func.count()).where(
        table.c.last_seen_at == run.now, table.c.resolved_at.is_(None)
    )
    with run.engine.connect() as connection:
        run.report.quarantined = int(connection.execute(still_bad).scalar() or 0)


def _due(last_run_at: datetime | None, now: datetime, *, minutes: float) -> bool:
    return last_run_at is None or now - last_run_at >= timedelta(minutes=minutes)


def _start(start_date: date | None) -> datetime:
    if start_date is None:
        raise ConfigError(
            "sync.start_date is not set: the first sync needs the date from which to backfill "
            "tickets (set it in the config file, or pass --since)"
        )
    return datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)


# -- ticket passes ---------------------------------------------------------------------


def _ticket_pass(
    run: _Run, pass_name: str, ticket_filter: str | None, cursor: datetime | None
) -> None:
    """Page through tickets updated since the cursor, oldest first, one commit per page."""
    run.report.passes.append(pass_name)
    if cursor is None:
        watermark = _watermark(run.engine, pass_name)
        overlap = timedelta(minutes=run.settings.sync.overlap_minutes)
        cursor = watermark - overlap if watermark else _start(run.settings.sync.start_date)
    seen_at_cursor: set[Any] = set()
    page, fetched, page_size = 1, 0, run.client.page_size
    while True:
        if page > MAX_PAGE:
            raise SyncError(
                f"more than {MAX_PAGE * page_size:,} tickets share updated_at "
                f"{format_instant(cursor)}: Freshdesk cannot list past its page {MAX_PAGE}"
            )
        params: dict[str, Any] = {
            "updated_since": format_instant(cursor),
            "order_by": "updated_at",
            "order_type": "asc",
            "per_page": page_size,
            "include": LIST_INCLUDE,
        }
        if ticket_filter:
            params["filter"] = ticket_filter
        if page > 1:
            params["page"] = page
        try:
            result = run.client.list_tickets(params)
        except FreshdeskValidationError as error:
            if not error.is_page_limit or page == 1:
                raise
            page = MAX_PAGE + 1  # a server that counts pages differently: same dead end
            continue
        run.report.pages += 1
        records = [
            record
            for record in result.records
            if not (record.get("id") in seen_at_cursor and _updated_at(record) == cursor)
        ]
        _store_tickets(run, records, pass_name=pass_name)
        fetched += len(records)
        run.progress(fetched)
        if len(result.records) < page_size or not result.has_next:
            _mark_run(run.engine, pass_name, run.now)
            return
        last = _updated_at(result.records[-1])
        if last is not None and last > cursor:
            cursor, page = last, 1
            seen_at_cursor = {r.get("id") for r in result.records if _updated_at(r) == last}
        else:  # a whole page within one second: page on at that second
            seen_at_cursor |= {record.get("id") for record in result.records}
            page += 1


def _updated_at(record: Mapping[str, Any]) -> datetime | None:
    """A record's ``updated_at`` for paging and the watermark; None when unreadable (the
    record itself is quarantined, the scan goes on)."""
    try:
        return instant(record, "updated_at", f"ticket {record.get('id')}")
    except RecordError:
        return None


def _store_tickets(run: _Run, records: list[dict[str, Any]], *, pass_name: str) -> None:
    """Store one page with its transitions, replies and change log, and move the watermark,
    in one transaction.

    Snapshots are applied per ticket in ``updated_at`` order, so a ticket twice in a page is
    one ticket. A snapshot older than the stored one never replaces it: it is kept in the
    snapshot log, noted in the change log as ignored, and the ticket's status history is
    derived again from every snapshot in ``updated_at`` order — delivery order and grouping
    into polls never change the result.
    """
    if not records:
        return
    rows, bad = [], []
    for record in records:
        try:
            rows.append(_flagged(ticket_row(record, now=run.now), pass_name))
        except RecordError as error:
            bad.append((record, str(error)))
    rows.sort(key=lambda row: (row["id"], row["updated_at"]))
    with run.engine.begin() as connection:
        stored = _stored_tickets(connection, sorted({row["id"] for row in rows}))
        page = _PageWrites(run)
        for row in rows:
            old = stored.get(row["id"])
            if old is not None and row["updated_at"] < old["updated_at"]:
                page.late(row, old)
                continue
            page.apply(row, old)
            stored[row["id"]] = row
        page.write(connection)
        quarantine(connection, "ticket", bad, now=run.now, stored=set(page.tickets))
        if pass_name in (TICKETS, DELETED, SPAM):  # past the bad records too
            seen = [row["updated_at"] for row in rows] + [_updated_at(r) for r, _ in bad]
            newest = max((at for at in seen if at is not None), default=None)
            _set_state(connection, pass_name, watermark=newest)


@dataclass
class _PageWrites:
    """What one page adds to the store, gathered so that it is written in a few statements."""

    run: _Run
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    rederive: set[int] = field(default_factory=set)

    def apply(self, row: dict[str, Any], old: Mapping[str, Any] | None) -> None:
        """A snapshot as new as the stored one, or newer: it becomes the stored ticket."""
        run = self.run
        row["first_seen_at"] = old["first_seen_at"] if old else run.now
        if old is None:  # its arrival is first_seen_at: the change log holds changes only
            run.report.tickets_new += 1
        elif diff := changed_fields(old, row):
            run.report.tickets_updated += 1
            self.changes.append(_change(run, row["id"], diff))
            run.report.deleted += "deleted" in diff and bool(row.get("deleted"))
            run.report.spam += "spam" in diff and bool(row.get("spam"))
        if old is None or row["updated_at"] > old["updated_at"]:
            self.snapshots.append(_snapshot(row, run.now))
            previous = status_facts(old) if old else None
            self.transitions += _transition_rows(
                row["id"], detect_transitions(previous, status_facts(row)), run.now
            )
        self._reply(row)
        if old is not None and self._replies_may_hide(row, old):
            self._conversation_replies(row["id"])
        self.tickets[row["id"]] = row

    def _replies_may_hide(self, row: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
        """Did the customer answer between two polls while the ticket waited on them?

        Stats only keep the latest reply; an earlier one ended the pause (SPEC §4).
        """
        reply = row["requester_responded_at"]
        if not self.run.settings.sync.read_conversations or reply is None:
            return False
        if reply == old["requester_responded_at"]:
            return False
        pauses = set(self.run.settings.pause.statuses)
        went_pending = row["pending_since"] is not None and row["pending_since"] > old["updated_at"]
        return old["status"] in pauses or row["status"] in pauses or went_pending

    def _conversation_replies(self, ticket_id: int) -> None:
        try:
            entries = self.run.client.conversations(ticket_id)
        except FreshdeskNotFoundError:
            return
        for entry in entries:
            if entry.get("incoming") is not True or entry.get("private") is True:
                continue
            try:
                at = instant(entry, "created_at", f"ticket {ticket_id} conversation")
            except RecordError:
                continue  # one unreadable entry does not hide the others
            self._add_reply(ticket_id, at, "conversation")

    def late(self, row: dict[str, Any], old: Mapping[str, Any]) -> None:
        """A snapshot older than the stored one: logged as ignored, kept for the history."""
        ignored = {"ignored_snapshot": [jsonable(old["updated_at"]), jsonable(row["updated_at"])]}
        self.changes.append(_change(self.run, row["id"], ignored))
        self.snapshots.append(_snapshot(row, self.run.now))
        self.rederive.add(row["id"])
        self._reply(row)

    def _reply(self, row: Mapping[str, Any]) -> None:
        self._add_reply(row["id"], row["requester_responded_at"], "stats.requester_responded_at")

    def _add_reply(self, ticket_id: int, at: datetime | None, source: str) -> None:
        if at is not None:
            self.replies.append(
                {"ticket_id": ticket_id, "at": at, "observed_at": self.run.now, "source": source}
            )

    def write(self, connection: Connection) -> None:
        _upsert(connection, TICKET_TABLE, list(self.tickets.values()),
                keep=("first_seen_at",), keep_if_null=("description_text",))  # fmt: skip
        _insert_new(connection, SNAPSHOT_TABLE, self.snapshots)
        _insert_new(connection, REPLY_TABLE, self.replies)
        _insert(connection, StatusTransition, self.transitions)
        _insert(connection, TicketChange, self.changes)
        self.run.report.transitions += len(self.transitions)
        for ticket_id in sorted(self.rederive):
            self.run.report.transitions += _rederive_history(connection, ticket_id, self.run.now)


def _snapshot(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "ticket_id": row["id"],
        "observed_at": now,
        **{name: row.get(name) for name in SNAPSHOT_FIELDS},
    }


def _transition_rows(
    ticket_id: int, found: Iterable[Transition], observed_at: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "ticket_id": ticket_id,
            "from_status": transition.from_status,
            "to_status": transition.to_status,
            "at": transition.at,
            "observed_at": observed_at,
            "kind": str(transition.kind),
            "evidence": transition.evidence,
        }
        for transition in found
    ]


def _rederive_history(connection: Connection, ticket_id: int, now: datetime) -> int:
    """Derive a ticket's transitions again from every snapshot, in ``updated_at`` order.

    The transitions it replaces are marked superseded (``--as-of`` still sees them as they
    were); returns the number of transitions added.
    """
    query = (
        select(*[SNAPSHOT_TABLE.c[name] for name in SNAPSHOT_FIELDS])
        .where(SNAPSHOT_TABLE.c.ticket_id == ticket_id)
        .order_by(SNAPSHOT_TABLE.c.updated_at)
    )
    derived: list[Transition] = []
    previous: StatusFacts | None = None
    for snapshot in connection.execute(query).mappings():
        current = status_facts(dict(snapshot))
        derived += detect_transitions(previous, current)
        previous = current
    table = table_of(StatusTransition)
    live = (table.c.ticket_id == ticket_id) & table.c.superseded_at.is_(None)
    key = [table.c.from_status, table.c.to_status, table.c.at, table.c.kind, table.c.evidence]
    kept = [tuple(row) for row in connection.execute(select(*key).where(live).order_by(table.c.id))]
    wanted = [(t.from_status, t.to_status, t.at, str(t.kind), t.evidence) for t in derived]
    if kept == wanted:
        return 0
    connection.execute(update(table).where(live).values(superseded_at=now))
    rows = _transition_rows(ticket_id, derived, now)
    _insert(connection, StatusTransition, rows)
    return len(rows)


def _flagged(row: dict[str, Any], pass_name: str) -> dict[str, Any]:
    # A new poll may change what the rules see: the clock engine classifies it again.
    row["rule_verdict"] = row["rule_fingerprint"] = None
    # The unfiltered list holds neither deleted nor spam tickets: being there clears both.
    row["deleted"] = pass_name == DELETED or (pass_name == RECONCILE and row["deleted"])
    row["spam"] = pass_name == SPAM or (pass_name == RECONCILE and row["spam"])
    row["gone"] = False
    return row


def _stored_tickets(connection: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    columns = [
        column for column in TICKET_TABLE.columns if column.name not in ("raw", "description_text")
    ]
    result = connection.execute(select(*columns).where(TICKET_TABLE.c.id.in_(ids)))
    return {row["id"]: dict(row) for row in result.mappings()}


def _change(run: _Run, ticket_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "sync_run_id": run.run_id,
        "observed_at": run.now,
        "changes": changes,
    }


# -- quarantine ----------------------------------------------------------------------------


def quarantine(
    connection: Connection,
    kind: str,
    bad: Sequence[tuple[Mapping[str, Any], str]],
    *,
    now: datetime,
    stored: set[int],
) -> None:
    """Keep each bad record with its reason (one row per record, attempts counted), and
    resolve the quarantine of records whose valid version was just stored."""
    table = QUARANTINE_TABLE
    if stored:
        connection.execute(
            update(table)
            .where(
                table.c.kind == kind, table.c.ticket_id.in_(stored), table.c.resolved_at.is_(None)
            )
            .values(resolved_at=now)
        )
    for record, reason in bad:
        raw = json.dumps(record, sort_keys=True, default=str)
        ticket_id = record_id(record)
        key = (
            str(ticket_id)
            if ticket_id is not None
            else hashlib.sha256(raw.encode()).hexdigest()[:24]
        )
        where = (table.c.kind == kind) & (table.c.record_key == key)
        again = {"raw": raw, "reason": reason, "last_seen_at": now, "resolved_at": None}
        found = connection.execute(
            update(table).where(where).values(attempts=table.c.attempts + 1, **again)
        )
        if not found.rowcount:
            connection.execute(table.insert().values(
                kind=kind, record_key=key, ticket_id=ticket_id, raw=raw, reason=reason,
                first_seen_at=now, last_seen_at=now, attempts=1,
            ))  # fmt: skip
        log.warning("quarantined a Freshdesk %s record: %s", kind, reason)


def quarantined_records(engine: Engine, *, limit: int = 5) -> tuple[int, list[str]]:
    """How many records wait in quarantine, and the reasons of the latest few."""
    table = QUARANTINE_TABLE
    waiting = table.c.resolved_at.is_(None)
    with engine.connect() as connection:
        count = int(connection.execute(select(func.count()).where(waiting)).scalar() or 0)
        latest = select(table.c.reason).where(waiting).order_by(table.c.last_seen_at.desc())
        reasons = list(connection.execute(latest.limit(limit)).scalars())
    return count, reasons


def _retry_quarantined(run: _Run) -> None:
    """Re-read quarantined tickets by id: a valid version is stored and resolves them."""
    table = QUARANTINE_TABLE
    query = (
        select(table.c.ticket_id)
        .where(table.c.kind == "ticket", table.c.resolved_at.is_(None))
        .where(table.c.ticket_id.is_not(None))
        .order_by(table.c.last_seen_at)
        .limit(run.settings.sync.reconcile_batch)
    )
    with run.engine.connect() as connection:
        ids = list(connection.execute(query).scalars())
    if ids:
        run.report.passes.append("quarantine")
    for ticket_id in ids:
        record = run.client.view_ticket(ticket_id)
        if record is not None:
            _store_tickets(run, [record], pass_name=RECONCILE)


# -- reference data and reconciliation --------------------------------------------------


def _companies_pass(run: _Run) -> None:
    run.report.passes.append(COMPANIES)
    watermark = _watermark(run.engine, COMPANIES)
    rows = []
    try:
        for record in run.client.iter_companies(format_instant(watermark) if watermark else None):
            rows.append(company_row(record))
    except RecordError as error:
        raise SyncError(f"Freshdesk sent a company that cannot be stored: {error}") from None
    with run.engine.begin() as connection:
        _upsert(connection, table_of(Company), rows)
        newest = max((row["updated_at"] for row in rows if row["updated_at"]), default=None)
        _set_state(connection, COMPANIES, watermark=newest, last_run_at=run.now)
    run.report.companies += len(rows)


def _ticket_fields_pass(run: _Run) -> None:
    run.report.passes.append(TICKET_FIELDS)
    rows = [
        {
            "id": record["id"],
            "name": str(record.get("name")),
            "label": record.get("label"),
            "type": record.get("type"),
            "choices": record.get("choices"),
            "fetched_at": run.now,
        }
        for record in run.client.ticket_fields()
        if isinstance(record.get("id"), int)
    ]
    with run.engine.begin() as connection:
        _upsert(connection, table_of(TicketField), rows)
        _set_state(connection, TICKET_FIELDS, last_run_at=run.now)


def _reconcile_pass(run: _Run) -> None:
    """Re-read, by id, open tickets that no list pass has shown lately (404 → gone)."""
    run.report.passes.append(RECONCILE)
    sync = run.settings.sync
    closed = {*run.settings.restoration.restored_statuses}
    stale_before = run.now - timedelta(minutes=sync.reconcile_minutes)
    query = (
        select(TICKET_TABLE.c.id)
        .where(
            TICKET_TABLE.c.status.not_in(closed),
            TICKET_TABLE.c.last_seen_at < stale_before,
            ~TICKET_TABLE.c.deleted,
            ~TICKET_TABLE.c.spam,
            ~TICKET_TABLE.c.gone,
        )
        .order_by(TICKET_TABLE.c.last_seen_at, TICKET_TABLE.c.id)
        .limit(sync.reconcile_batch)
    )
    with run.engine.connect() as connection:
        stale = list(connection.execute(query).scalars())
    for ticket_id in stale:
        record = run.client.view_ticket(ticket_id)
        if record is not None:
            _store_tickets(run, [record], pass_name=RECONCILE)
            continue
        with run.engine.begin() as connection:
            connection.execute(
                update(TICKET_TABLE)
                .where(TICKET_TABLE.c.id == ticket_id)
                .values(gone=True, last_seen_at=run.now)
            )
            _insert(connection, TicketChange, [_change(run, ticket_id, {"gone": [False, True]})])
        run.report.gone += 1
    _mark_run(run.engine, RECONCILE, run.now)


# -- bookkeeping -------------------------------------------------------------------------


def _upsert(
    connection: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    keep: Iterable[str] = (),
    keep_if_null: Iterable[str] = (),
) -> None:
    """Insert or update by primary key, as one executemany with a cached statement.

    ``keep`` columns are never overwritten; ``keep_if_null`` ones only by a non-null value.
    """
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    key_columns = [column.name for column in table.primary_key.columns]
    updated = sorted(set(rows[0]) - {*key_columns, *keep})
    nullable_kept = set(keep_if_null)
    statement = statement.on_conflict_do_update(
        index_elements=key_columns,
        set_={
            name: func.coalesce(statement.excluded[name], table.c[name])
            if name in nullable_kept
            else statement.excluded[name]
            for name in updated
        },
    )
    connection.execute(statement, rows)


def _insert(connection: Connection, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(table_of(model).insert(), rows)


def _insert_new(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose unique key is not stored yet (a fact seen twice is one fact)."""
    if rows:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def _watermark(engine: Engine, pass_name: str) -> datetime | None:
    with engine.connect() as connection:
        query = select(STATE_TABLE.c.watermark).where(STATE_TABLE.c.pass_name == pass_name)
        return cast("datetime | None", connection.execute(query).scalar())


def _last_runs(engine: Engine) -> dict[str, datetime | None]:
    with engine.connect() as connection:
        rows = connection.execute(select(STATE_TABLE.c.pass_name, STATE_TABLE.c.last_run_at))
        return {name: last for name, last in rows}


def _set_state(
    connection: Connection,
    pass_name: str,
    *,
    watermark: datetime | None = None,
    last_run_at: datetime | None = None,
) -> None:
    """Record a pass's progress; a watermark only ever moves forward."""
    table = STATE_TABLE
    where = table.c.pass_name == pass_name
    current = connection.execute(select(table).where(where)).mappings().first()
    values: dict[str, Any] = {}
    if watermark is not None and not (
        current and current["watermark"] and current["watermark"] >= watermark
    ):
        values["watermark"] = watermark
    if last_run_at is not None:
        values["last_run_at"] = last_run_at
    if current is None:
        connection.execute(
            table.insert(),
            [{"pass_name": pass_name, "watermark": None, "last_run_at": None, **values}],
        )
    elif values:
        connection.execute(update(table).where(where).values(**values))


def _mark_run(engine: Engine, pass_name: str, now: datetime) -> None:
    with engine.begin() as connection:
        _set_state(connection, pass_name, last_run_at=now)


def _start_run(engine: Engine, mode: str, now: datetime) -> int:
    with engine.begin() as connection:
        insert = RUN_TABLE.insert().values(mode=mode, started_at=now, outcome="running")
        key = connection.execute(insert).inserted_primary_key
        return int(cast("tuple[int]", key)[0])  # a single-row insert always reports its key


def _finish_run(run: _Run, *, outcome: str, error: str | None) -> None:
    report = run.report
    with run.engine.begin() as connection:
        connection.execute(
            update(RUN_TABLE)
            .where(RUN_TABLE.c.id == run.run_id)
            .values(
                finished_at=run.now + timedelta(seconds=round(report.seconds)),
                outcome=outcome,
                pages=report.pages,
                api_calls=report.api_calls,
                credits=report.credits,
                tickets_new=report.tickets_new,
                tickets_updated=report.tickets_updated,
                transitions=report.transitions,
                errors=error,
            )
        )
