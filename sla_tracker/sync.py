"""Help desk → store: the incremental sync (freshdesk-api.md §10), crash-safe and idempotent.

Passes: tickets (every run), deleted and spam tickets (every ``sync.deleted_spam_minutes``),
companies, ticket_fields and the directory of groups and agents (every
``sync.reference_refresh_hours``: they change rarely and cost API calls), and a
reconciliation of tickets held open locally that no update covered (every
``sync.reconcile_minutes``).

The help desk (``sla_tracker.helpdesk``) hands out ticket pages oldest update first and
maps its records; this module decides what each page changes. Each page is stored, with
its status transitions, change log and the pass's watermark, in one transaction: a sync
killed at any point and run again ends with the same data as one never interrupted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sla_tracker.config import ConfigError, redact
from sla_tracker.core.instants import format_instant
from sla_tracker.core.timeline import StatusFacts, Transition, detect_transitions
from sla_tracker.storage import directory, sync_state, tickets
from sla_tracker.storage.locks import sync_lock
from sla_tracker.storage.writes import transaction

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from sla_tracker.config import Settings
    from sla_tracker.helpdesk import HelpdeskClient, Record
    from sla_tracker.storage.engine import Engine
    from sla_tracker.storage.writes import Connection

TICKETS, DELETED, SPAM = "tickets", "deleted", "spam"
COMPANIES, TICKET_FIELDS, RECONCILE = "companies", "ticket_fields", "reconcile"
DIRECTORY = "directory"  # groups and agents
log = logging.getLogger(__name__)


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
    groups: int = 0
    agents: int = 0
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
            + (f", {self.groups} groups, {self.agents} agents" if DIRECTORY in self.passes else "")
            + (f", {self.quarantined} quarantined records" if self.quarantined else "")
            + "; "
            f"{self.api_calls:,} API calls, {self.credits:,} credits"
        )


@dataclass
class _Run:
    client: HelpdeskClient
    engine: Engine
    settings: Settings
    now: datetime
    report: SyncSummary
    run_id: int
    progress: Callable[[int], None]


def sync_once(
    client: HelpdeskClient,
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
        HelpdeskError: the run failed; it is recorded as failed, nothing half-done kept.
    """
    mode = "full" if full else "since" if since else "reconcile" if reconcile else "incremental"
    started = time.monotonic()
    calls_before, credits_before = client.counter.api_calls, client.counter.credits
    with sync_lock(engine, wait_seconds=settings.sync.lock_wait_seconds):
        report = SyncSummary(mode)
        run = _Run(client, engine, settings, now, report, sync_state.start_run(engine, mode, now),
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
    last = sync_state.last_runs(run.engine)
    cursor = since or (_start(sync.start_date) if full else None)
    _ticket_pass(run, TICKETS, None, cursor)
    if full or _due(last.get(DELETED), run.now, minutes=sync.deleted_spam_minutes):
        _ticket_pass(run, DELETED, "deleted", cursor)
        _ticket_pass(run, SPAM, "spam", cursor)
    if full or _due(last.get(COMPANIES), run.now, minutes=sync.reference_refresh_hours * 60):
        _companies_pass(run)
        _ticket_fields_pass(run)
    if full or _due(last.get(DIRECTORY), run.now, minutes=sync.reference_refresh_hours * 60):
        _directory_pass(run)
    if reconcile or _due(last.get(RECONCILE), run.now, minutes=sync.reconcile_minutes):
        _reconcile_pass(run)
    _retry_quarantined(run)
    run.report.quarantined = sync_state.still_quarantined(run.engine, seen_at=run.now)


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
    """Store the tickets updated since the cursor, oldest first, one commit per page."""
    run.report.passes.append(pass_name)
    if cursor is None:
        watermark = sync_state.watermark(run.engine, pass_name)
        overlap = timedelta(minutes=run.settings.sync.overlap_minutes)
        cursor = watermark - overlap if watermark else _start(run.settings.sync.start_date)
    fetched = 0
    for records in run.client.ticket_pages(cursor, ticket_filter):
        run.report.pages += 1
        _store_tickets(run, records, pass_name=pass_name)
        fetched += len(records)
        run.progress(fetched)
    sync_state.mark_run(run.engine, pass_name, run.now)


def _store_tickets(run: _Run, records: list[Record], *, pass_name: str) -> None:
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
    mapped = run.client.ticket_rows(records, now=run.now)
    rows = sorted(
        (_flagged(row, pass_name) for row in mapped.rows),
        key=lambda row: (row["id"], row["updated_at"]),
    )
    with transaction(run.engine) as connection:
        stored = tickets.stored_tickets(connection, sorted({row["id"] for row in rows}))
        page = _PageWrites(run)
        for row in rows:
            old = stored.get(row["id"])
            if old is not None and row["updated_at"] < old["updated_at"]:
                page.late(row, old)
                continue
            page.apply(row, old)
            stored[row["id"]] = row
        page.write(connection)
        stored_ids = set(page.tickets)
        sync_state.quarantine(connection, "ticket", mapped.rejected, now=run.now, stored=stored_ids)
        for bad in mapped.rejected:
            log.warning("quarantined a Freshdesk ticket record: %s", bad.reason)
        if pass_name in (TICKETS, DELETED, SPAM):  # past the bad records too
            seen = [row["updated_at"] for row in rows] + [r.updated_at for r in mapped.rejected]
            newest = max((at for at in seen if at is not None), default=None)
            sync_state.set_state(connection, pass_name, watermark=newest)


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
        elif diff := run.client.changed_fields(old, row):
            run.report.tickets_updated += 1
            self.changes.append(_change(run, row["id"], diff))
            run.report.deleted += "deleted" in diff and bool(row.get("deleted"))
            run.report.spam += "spam" in diff and bool(row.get("spam"))
        if old is None or row["updated_at"] > old["updated_at"]:
            self.snapshots.append(tickets.snapshot_row(row, run.now))
            previous = run.client.status_facts(old) if old else None
            self.transitions += _transition_rows(
                row["id"], detect_transitions(previous, run.client.status_facts(row)), run.now
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
        for at in self.run.client.customer_replies(ticket_id):
            self._add_reply(ticket_id, at, "conversation")

    def late(self, row: dict[str, Any], old: Mapping[str, Any]) -> None:
        """A snapshot older than the stored one: logged as ignored, kept for the history."""
        ignored = {"ignored_snapshot": [format_instant(old["updated_at"]),
                                        format_instant(row["updated_at"])]}  # fmt: skip
        self.changes.append(_change(self.run, row["id"], ignored))
        self.snapshots.append(tickets.snapshot_row(row, self.run.now))
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
        tickets.write_page(connection, tickets=list(self.tickets.values()),
                           snapshots=self.snapshots, replies=self.replies,
                           transitions=self.transitions, changes=self.changes)  # fmt: skip
        self.run.report.transitions += len(self.transitions)
        for ticket_id in sorted(self.rederive):
            self.run.report.transitions += self._rederive_history(connection, ticket_id)

    def _rederive_history(self, connection: Connection, ticket_id: int) -> int:
        """Derive a ticket's transitions again from every snapshot, in ``updated_at`` order.

        The transitions it replaces are superseded (``--as-of`` still sees them as they
        were); returns the number of transitions added.
        """
        derived: list[Transition] = []
        previous: StatusFacts | None = None
        for snapshot in tickets.snapshots_in_order(connection, ticket_id):
            current = self.run.client.status_facts(snapshot)
            derived += detect_transitions(previous, current)
            previous = current
        wanted = [(t.from_status, t.to_status, t.at, str(t.kind), t.evidence) for t in derived]
        if tickets.live_transitions(connection, ticket_id) == wanted:
            return 0
        rows = _transition_rows(ticket_id, derived, self.run.now)
        tickets.replace_transitions(connection, ticket_id, rows, now=self.run.now)
        return len(rows)


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


def _flagged(row: dict[str, Any], pass_name: str) -> dict[str, Any]:
    # A new poll may change what the rules see: the clock engine classifies it again.
    row["rule_verdict"] = row["rule_fingerprint"] = None
    # The unfiltered list holds neither deleted nor spam tickets: being there clears both.
    row["deleted"] = pass_name == DELETED or (pass_name == RECONCILE and row["deleted"])
    row["spam"] = pass_name == SPAM or (pass_name == RECONCILE and row["spam"])
    row["gone"] = False
    return row


def _change(run: _Run, ticket_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "sync_run_id": run.run_id,
        "observed_at": run.now,
        "changes": changes,
    }


# -- quarantine ----------------------------------------------------------------------------


def _retry_quarantined(run: _Run) -> None:
    """Re-read quarantined tickets by id: a valid version is stored and resolves them."""
    ids = sync_state.quarantined_ticket_ids(run.engine, limit=run.settings.sync.reconcile_batch)
    if ids:
        run.report.passes.append("quarantine")
    for ticket_id in ids:
        record = run.client.view_ticket(ticket_id)
        if record is not None:
            _store_tickets(run, [record], pass_name=RECONCILE)


# -- reference data and reconciliation --------------------------------------------------


def _companies_pass(run: _Run) -> None:
    run.report.passes.append(COMPANIES)
    rows = run.client.company_rows(sync_state.watermark(run.engine, COMPANIES))
    with transaction(run.engine) as connection:
        tickets.store_companies(connection, rows)
        newest = max((row["updated_at"] for row in rows if row["updated_at"]), default=None)
        sync_state.set_state(connection, COMPANIES, watermark=newest, last_run_at=run.now)
    run.report.companies += len(rows)


def _ticket_fields_pass(run: _Run) -> None:
    run.report.passes.append(TICKET_FIELDS)
    rows = run.client.ticket_field_rows()
    with transaction(run.engine) as connection:
        tickets.store_ticket_fields(connection, rows, fetched_at=run.now)
        sync_state.set_state(connection, TICKET_FIELDS, last_run_at=run.now)


def _directory_pass(run: _Run) -> None:
    """Groups and agents, read whole (agents have no ``updated_since``); a bad record is
    quarantined, the others stored."""
    run.report.passes.append(DIRECTORY)
    groups, agents = run.client.group_rows(), run.client.agent_rows()
    with transaction(run.engine) as connection:
        directory.store_directory(connection, groups=groups.rows, agents=agents.rows, now=run.now)
        for kind, mapped in (("group", groups), ("agent", agents)):
            stored = {row["id"] for row in mapped.rows}
            sync_state.quarantine(connection, kind, mapped.rejected, now=run.now, stored=stored)
            for bad in mapped.rejected:
                log.warning("quarantined a help-desk %s record: %s", kind, bad.reason)
        sync_state.set_state(connection, DIRECTORY, last_run_at=run.now)
    run.report.groups, run.report.agents = len(groups.rows), len(agents.rows)


def _reconcile_pass(run: _Run) -> None:
    """Re-read, by id, open tickets that no list pass has shown lately (404 → gone)."""
    run.report.passes.append(RECONCILE)
    sync = run.settings.sync
    stale = tickets.reconcile_candidates(
        run.engine,
        closed=run.settings.restoration.restored_statuses,
        stale_before=run.now - timedelta(minutes=sync.reconcile_minutes),
        limit=sync.reconcile_batch,
    )
    for ticket_id in stale:
        record = run.client.view_ticket(ticket_id)
        if record is not None:
            _store_tickets(run, [record], pass_name=RECONCILE)
            continue
        gone = _change(run, ticket_id, {"gone": [False, True]})
        tickets.mark_gone(run.engine, ticket_id, gone, now=run.now)
        run.report.gone += 1
    sync_state.mark_run(run.engine, RECONCILE, run.now)


# -- bookkeeping -------------------------------------------------------------------------


def _finish_run(run: _Run, *, outcome: str, error: str | None) -> None:
    report = run.report
    sync_state.finish_run(
        run.engine,
        run.run_id,
        finished_at=run.now + timedelta(seconds=round(report.seconds)),
        outcome=outcome,
        errors=error,
        counts={
            "pages": report.pages,
            "api_calls": report.api_calls,
            "credits": report.credits,
            "tickets_new": report.tickets_new,
            "tickets_updated": report.tickets_updated,
            "transitions": report.transitions,
        },
    )
