"""What the web board reads beside the judgments (assignments, operator counts) and the one
thing it writes: the status transitions Freshdesk's webhook reports (kind ``webhook``).

Webhook transitions are kept beside the polled ones (observed / inferred / gap) and never
superseded by a late snapshot's re-derivation: they are facts of their own, deduplicated
on (ticket, instant, status), so a delivery repeated or received out of order leaves the
same history.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, text, update

from sla_tracker.storage.directory import agent_names, group_names
from sla_tracker.storage.judging import company_names
from sla_tracker.storage.judgments import forget_judgments
from sla_tracker.storage.tables import (
    AlertEvent,
    QuarantinedRecord,
    ReportRun,
    StatusTransition,
    SyncRun,
    TicketField,
    table_of,
)

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Connection, Engine

WEBHOOK = "webhook"
TRANSITIONS = table_of(StatusTransition)
RUNS = table_of(SyncRun)
ALERTS = table_of(AlertEvent)
QUARANTINE = table_of(QuarantinedRecord)


def record_webhook_transition(
    engine: Engine, ticket_id: int, status: int, at: datetime, *, now: datetime
) -> bool:
    """Keep the status a delivery reports at its instant; False when it was already known.

    ``from_status`` of the ticket's webhook transitions is derived again from the whole
    history in time order, so the rows are the same whatever order deliveries came in. The
    transaction writes first, so concurrent deliveries queue for SQLite's write lock instead
    of failing on a read lock they cannot upgrade; one writer per process at a time keeps
    two copies of one delivery from both looking new.
    """
    live = (TRANSITIONS.c.ticket_id == ticket_id) & TRANSITIONS.c.superseded_at.is_(None)

    def known(connection: Connection, *, besides: int = 0) -> bool:
        query = select(TRANSITIONS.c.id).where(
            live, TRANSITIONS.c.kind == WEBHOOK, TRANSITIONS.c.at == at,
            TRANSITIONS.c.to_status == status, TRANSITIONS.c.id != besides,
        )  # fmt: skip
        return connection.execute(query.limit(1)).first() is not None

    with engine.connect() as connection:  # a retried delivery costs a read, no write lock
        if known(connection):
            return False
    evidence = f"Freshdesk webhook (updated_at {at.isoformat()})"
    with _ONE_WRITER, engine.begin() as connection:
        added = connection.execute(
            TRANSITIONS.insert().returning(TRANSITIONS.c.id).values(
                ticket_id=ticket_id, from_status=None, to_status=status, at=at,
                observed_at=now, kind=WEBHOOK, evidence=evidence,
            )
        ).scalar_one()  # fmt: skip
        if known(connection, besides=added):
            connection.execute(delete(TRANSITIONS).where(TRANSITIONS.c.id == added))
            return False
        forget_judgments(connection, [ticket_id])  # its clocks changed: judged anew on read
        history = connection.execute(
            select(TRANSITIONS.c.id, TRANSITIONS.c.kind, TRANSITIONS.c.to_status)
            .where(live)
            .order_by(TRANSITIONS.c.at, TRANSITIONS.c.id)
        ).all()
        before: int | None = None
        for row_id, kind, to_status in history:
            if kind == WEBHOOK:
                connection.execute(
                    update(TRANSITIONS).where(TRANSITIONS.c.id == row_id).values(from_status=before)
                )
            before = to_status
    return True


_ONE_WRITER = threading.Lock()


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any driver error means the same thing to a health check
        return False
    return True


def last_successful_sync(engine: Engine) -> dict[str, Any] | None:
    """The latest sync run that ended well: when, and the API calls and credits it used."""
    query = (
        select(RUNS.c.started_at, RUNS.c.finished_at, RUNS.c.api_calls, RUNS.c.credits)
        .where(RUNS.c.outcome == "ok")
        .order_by(RUNS.c.id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return None if row is None else dict(row)


def operator_counts(engine: Engine) -> dict[str, int]:
    """Totals since the database began: sync runs by outcome, API calls and credits, alerts
    sent and failed per channel, breaches (their alert events: ``breach``, or
    ``gtr_accruing`` for the GTR), quarantined records."""
    with engine.connect() as connection:
        runs: dict[str, int] = dict(
            connection.execute(select(RUNS.c.outcome, func.count()).group_by(RUNS.c.outcome)).all()
        )
        calls, credits = connection.execute(
            select(func.coalesce(func.sum(RUNS.c.api_calls), 0),
                   func.coalesce(func.sum(RUNS.c.credits), 0))
        ).one()  # fmt: skip
        alerts = connection.execute(
            select(
                func.count(),
                func.count(ALERTS.c.email_sent_at),
                func.count(ALERTS.c.webhook_sent_at),
                func.count().filter(ALERTS.c.last_error.is_not(None)),
            )
        ).one()
        breaches: dict[str, int] = dict(
            connection.execute(
                select(ALERTS.c.clock, func.count())
                .where(ALERTS.c.kind.in_(("breach", "gtr_accruing")))
                .group_by(ALERTS.c.clock)
            ).all()
        )
        quarantined = connection.execute(
            select(func.count()).where(QUARANTINE.c.resolved_at.is_(None))
        ).scalar()
    return {
        "syncs_ok": int(runs.get("ok", 0)),
        "syncs_failed": int(runs.get("failed", 0)),
        "api_calls": int(calls),
        "api_credits": int(credits),
        "alerts_recorded": int(alerts[0]),
        "alerts_email_sent": int(alerts[1]),
        "alerts_webhook_sent": int(alerts[2]),
        "alerts_failing": int(alerts[3]),
        "quarantined": int(quarantined or 0),
        "breaches_response": int(breaches.get("response", 0)),
        "breaches_restoration": int(breaches.get("restoration", 0)),
    }


def status_ids_by_name(engine: Engine) -> dict[str, int]:
    """The account's status labels (lower case) and their ids, from the cached ticket_fields:
    custom statuses included (``choices`` maps ``"<id>": [agent_label, customer_label]``)."""
    fields = table_of(TicketField)
    with engine.connect() as connection:
        choices = connection.execute(
            select(fields.c.choices).where(fields.c.name == "status").limit(1)
        ).scalar()
    if not isinstance(choices, dict):
        return {}
    return {
        str(labels[0]).casefold(): int(key)
        for key, labels in choices.items()
        if str(key).isdigit() and isinstance(labels, list) and labels
    }


def report_runs(engine: Engine, *, limit: int) -> list[dict[str, Any]]:
    """The weekly reports recorded, latest week first (without their bulky messages)."""
    runs = table_of(ReportRun)
    columns = [column for column in runs.columns if column.name != "message"]
    query = select(*columns).order_by(runs.c.week.desc(), runs.c.copy_number.desc()).limit(limit)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def directory(engine: Engine) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """The help desk's company, group and agent names, by id (the board's filter choices)."""
    with engine.connect() as connection:
        return company_names(connection), group_names(connection), agent_names(connection)
