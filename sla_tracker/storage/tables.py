"""The schema as SQLAlchemy Core tables: column types that read and write the same on SQLite
and PostgreSQL (aware UTC instants, exact money), and every table the tracker keeps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine.interfaces import Dialect


BIGINT = 2**63  # ids are stored as 64-bit integers: every id must be below it
METADATA = MetaData()


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


Company = Table(
    "company",
    METADATA,
    Column("id", BigInteger(), primary_key=True, autoincrement=False),
    Column("name", String(), nullable=False),
    Column("domains", JSON()),
    Column("custom_fields", JSON()),
    Column("account_tier", String()),
    Column("created_at", UTCDateTime()),
    Column("updated_at", UTCDateTime()),
    Column("raw", JSON()),
)


# The latest snapshot of a Freshdesk ticket, with our own flags.
Ticket = Table(
    "ticket",
    METADATA,
    Column("id", BigInteger(), primary_key=True, autoincrement=False),
    Column("subject", String()),
    Column("description_text", String()),
    Column("status", Integer(), nullable=False),
    Column("priority", Integer()),
    Column("source", Integer()),
    Column("type", String()),
    Column("tags", JSON()),
    Column("custom_fields", JSON()),
    Column("requester_id", BigInteger(), autoincrement=False),
    Column("responder_id", BigInteger(), autoincrement=False),
    Column("group_id", BigInteger(), autoincrement=False),
    Column("company_id", BigInteger(), autoincrement=False, index=True),
    Column("product_id", BigInteger(), autoincrement=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("updated_at", UTCDateTime(), nullable=False, index=True),
    Column("due_by", UTCDateTime()),
    Column("fr_due_by", UTCDateTime()),
    Column("nr_due_by", UTCDateTime()),
    Column("is_escalated", Boolean(), nullable=False, default=False),
    Column("fr_escalated", Boolean(), nullable=False, default=False),
    Column("nr_escalated", Boolean(), nullable=False, default=False),
    Column("first_responded_at", UTCDateTime()),
    Column("agent_responded_at", UTCDateTime()),
    Column("requester_responded_at", UTCDateTime()),
    Column("status_updated_at", UTCDateTime()),
    Column("pending_since", UTCDateTime()),
    Column("reopened_at", UTCDateTime()),
    Column("resolved_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("spam", Boolean(), nullable=False, default=False),
    Column("deleted", Boolean(), nullable=False, default=False),
    Column(
        "gone", Boolean(), nullable=False, default=False
    ),  # hard-deleted: 404 on view; local history kept
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("rule_fingerprint", String()),  # the rule set rule_verdict was computed with
    Column("rule_verdict", JSON()),  # the rules' classification (people apart)
    Column("raw", JSON()),
)


StatusTransition = Table(
    "status_transition",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column("from_status", Integer()),
    Column("to_status", Integer(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("kind", String(), nullable=False),  # observed | inferred | gap
    Column("evidence", String(), nullable=False),
    # A late snapshot re-derives the ticket's history: the transitions it replaces stay,
    # marked superseded, so that ``--as-of`` still answers as the tracker did then.
    Column("superseded_at", UTCDateTime()),
)


# A Freshdesk record that could not be stored as it is: kept raw with the reason.
#
# One bad record never stops ingestion: the rest of its page is stored, the watermark
# moves past it, and each poll retries it (by id) until a valid version arrives.
QuarantinedRecord = Table(
    "quarantined_record",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("kind", String(), nullable=False),  # ticket | company
    Column(
        "record_key", String(), nullable=False
    ),  # the record's id, or a digest of its JSON when it has no usable id
    Column("ticket_id", BigInteger(), autoincrement=False),  # the id to re-read, when it is one
    Column(
        "raw", String(), nullable=False
    ),  # the record as received (JSON text; secrets never travel in records)
    Column("reason", String(), nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False, default=1),
    Column("resolved_at", UTCDateTime()),
    UniqueConstraint("kind", "record_key"),
)


# The status facts of one version of a ticket (one ``updated_at``), as first received.
#
# Freshdesk gives snapshots, not events: keeping every version lets the status history be
# derived from all of them in ``updated_at`` order, whatever order they arrived in.
TicketSnapshot = Table(
    "ticket_snapshot",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("status", Integer(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status_updated_at", UTCDateTime()),
    Column("pending_since", UTCDateTime()),
    Column("resolved_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("reopened_at", UTCDateTime()),
    UniqueConstraint("ticket_id", "updated_at"),
)


# One customer reply instant the tracker observed (SPEC §4: every reply counts).
#
# ``requester_responded_at`` only holds the latest reply: each value it takes, and replies
# read from the conversations, are kept here so that a later reply never moves an earlier
# pause's end.
CustomerReply = Table(
    "customer_reply",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("source", String(), nullable=False),  # stats.requester_responded_at | conversation
    UniqueConstraint("ticket_id", "at"),
)


# What one poll changed on one ticket: ``{field: [old, new]}``.
TicketChange = Table(
    "ticket_change",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column("sync_run_id", Integer(), index=True),
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("changes", JSON()),
)


SyncRun = Table(
    "sync_run",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("mode", String(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column(
        "outcome", String(), nullable=False, default="running"
    ),  # running | ok | failed (a killed run stays "running")
    Column("pages", Integer(), nullable=False, default=0),
    Column("api_calls", Integer(), nullable=False, default=0),
    Column("credits", Integer(), nullable=False, default=0),
    Column("tickets_new", Integer(), nullable=False, default=0),
    Column("tickets_updated", Integer(), nullable=False, default=0),
    Column("transitions", Integer(), nullable=False, default=0),
    Column("errors", String()),
)


# Per pass: the watermark (greatest ``updated_at`` committed) and when it last ran.
SyncState = Table(
    "sync_state",
    METADATA,
    Column("pass_name", String(), primary_key=True),
    Column("watermark", UTCDateTime()),
    Column("last_run_at", UTCDateTime()),
)


# Freshdesk's ticket_fields, cached: status and source labels, custom statuses.
TicketField = Table(
    "ticket_field",
    METADATA,
    Column("id", BigInteger(), primary_key=True, autoincrement=False),
    Column("name", String(), nullable=False),
    Column("label", String()),
    Column("type", String()),
    Column("choices", JSON()),
    Column("fetched_at", UTCDateTime(), nullable=False),
)


# A person's decision on one classification dimension (append-only, SPEC §3).
ClassificationOverride = Table(
    "classification_override",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column(
        "dimension", String(), nullable=False
    ),  # severity | gtr_object | external_link | non_standard_fields
    Column("value", String(), nullable=False),
    Column("by", String(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("reason", String(), nullable=False),
)


# C11: an exclusion recorded on a ticket (or an interval of it), or its revocation.
ExclusionRecord = Table(
    "exclusion",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column("action", String(), nullable=False),  # exclude | revoke
    Column("reason", String(), nullable=False),
    Column("note", String()),
    Column("starts_at", UTCDateTime()),
    Column("ends_at", UTCDateTime()),
    Column("by", String(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
)


# C13: one version of a customer's contract terms; new versions never overwrite old ones.
ContractVersion = Table(
    "contract_version",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("company_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column("fee", Money(), nullable=False),
    Column("currency", String(), nullable=False, default="EUR"),
    Column("period", String(), nullable=False),  # monthly | annual | two_years
    Column("start_on", Date(), nullable=False),
    Column(
        "effective_on", Date(), nullable=False
    ),  # when this fee applies: the start or a renewal date
    Column("tacit_renewal", Boolean(), nullable=False, default=True),
    Column("terminated_on", Date()),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("by", String(), nullable=False),
)


# An indemnity frozen by ``period close``: later changes become adjustments, not rewrites.
ClosedPeriod = Table(
    "closed_period",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("company_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column("period_start", UTCDateTime(), nullable=False),
    Column("period_end", UTCDateTime(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("currency", String(), nullable=False),
    Column("breach_seconds", Integer(), nullable=False),
    Column("detail", JSON()),
    Column("closed_at", UTCDateTime(), nullable=False),
    Column("by", String(), nullable=False),
)


# A weekly report: recorded with its whole message before sending, marked sent once the
# SMTP server accepted it, so a retry sends the same message and no rerun sends a new one.
ReportRun = Table(
    "report_run",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("week", String(), nullable=False, index=True),  # 2026-W48
    Column(
        "copy_number", Integer(), nullable=False, default=0
    ),  # 0 the report, then 1, 2… for each copy sent with --force
    Column("recipients", JSON()),
    Column("message_id", String(), nullable=False),
    Column("message", Text()),  # RFC 5322, as sent
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),  # None: recorded, not confirmed by the server
    Column("attempts", Integer(), nullable=False, default=0),
    Column("last_error", String()),
    UniqueConstraint("week", "copy_number"),
)


# One alert: recorded before sending, marked sent per channel once accepted.
AlertEvent = Table(
    "alert_event",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", BigInteger(), nullable=False, autoincrement=False, index=True),
    Column("clock", String(), nullable=False),  # response | restoration
    Column("kind", String(), nullable=False),  # threshold | breach | gtr_accruing
    Column(
        "threshold", Integer(), nullable=False, default=0
    ),  # percent for "threshold" events, 0 otherwise
    Column("detail", JSON()),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("email_message_id", String()),  # recorded before the first try, kept for retries
    Column("email_sent_at", UTCDateTime()),
    Column("webhook_key", String()),  # the webhook's idempotency key, likewise
    Column("webhook_sent_at", UTCDateTime()),
    Column("attempts", Integer(), nullable=False, default=0),
    Column("last_error", String()),
    UniqueConstraint("ticket_id", "clock", "kind", "threshold"),
)


# A ticket's judgment as computed at ``judged_at``, kept so that reads need not rejudge.
#
# Between two events a clock is a simple function of time, so a later instant's answer is
# derived from this row (``judge.kept``). The indexed instants let listings filter in SQL:
# a clock is breached at ``now`` when ``*_breach_at < now`` and at risk when
# ``*_risk_at <= now`` and it is not breached. The row is valid while ``fingerprint`` is the
# settings' and ``now < valid_until`` (a bounded exclusion, say, changes the rule then);
# writers delete it when they change what it was computed from.
TicketJudgment = Table(
    "ticket_judgment",
    METADATA,
    Column("ticket_id", BigInteger(), primary_key=True, autoincrement=False),
    Column("fingerprint", String(), nullable=False),
    Column("judged_at", UTCDateTime(), nullable=False, index=True),
    Column("valid_until", UTCDateTime(), index=True),
    Column("listed", Boolean(), nullable=False, default=True),  # not deleted, spam or gone
    Column("open", Boolean(), nullable=False, default=True),
    Column("company_id", BigInteger(), autoincrement=False, index=True),
    Column("group_id", BigInteger(), autoincrement=False),
    Column("responder_id", BigInteger(), autoincrement=False),
    Column("severity", String(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("response_breach_at", UTCDateTime(), index=True),
    Column("restoration_breach_at", UTCDateTime(), index=True),
    Column("response_risk_at", UTCDateTime(), index=True),
    Column("restoration_risk_at", UTCDateTime(), index=True),
    Column("next_deadline", UTCDateTime(), index=True),  # of a counting clock: urgent first
    Column("waiting_remaining", Integer()),  # of a clock waiting on the customer: next in line
    Column("body", JSON()),  # the rest of the judgment, to rebuild it
    Index("ix_ticket_judgment_open_deadline", "open", "next_deadline"),
)


# A help-desk group (``GET /api/v2/groups``), for names instead of ``group_id``s.
#
# Kept when the help desk no longer lists it: old tickets still name it.
HelpdeskGroup = Table(
    "helpdesk_group",
    METADATA,
    Column("id", BigInteger(), primary_key=True, autoincrement=False),
    Column("name", String(), nullable=False),
    Column("business_hour_id", BigInteger(), autoincrement=False),
    Column("updated_at", UTCDateTime()),
    Column("fetched_at", UTCDateTime(), nullable=False),  # the last list that showed it
)


# A help-desk agent (``GET /api/v2/agents``): ``id`` is a ticket's ``responder_id``.
#
# Kept when the help desk no longer lists it: old tickets still name the person.
HelpdeskAgent = Table(
    "helpdesk_agent",
    METADATA,
    Column("id", BigInteger(), primary_key=True, autoincrement=False),
    Column("name", String(), nullable=False),
    Column("email", String()),
    Column("active", Boolean(), nullable=False, default=True),
    Column("updated_at", UTCDateTime()),
    Column("fetched_at", UTCDateTime(), nullable=False),  # the last list that showed it
)


# A ticket a writer changed since its judgment was kept (one row per change: a refresh
# clears only the marks it saw, so a change made meanwhile is never lost).
JudgmentDirty = Table(
    "judgment_dirty",
    METADATA,
    Column("id", Integer(), primary_key=True),
    Column("ticket_id", BigInteger(), nullable=False, autoincrement=False, index=True),
)


# The fingerprint every kept judgment was made with, once a full refresh completed:
# while it is the settings', stale tickets are the dirty ones and those past their
# ``valid_until``, found through indexes rather than a scan of every ticket.
JudgmentState = Table(
    "judgment_state",
    METADATA,
    Column("id", Integer(), primary_key=True, default=1),
    Column("fingerprint", String(), nullable=False),
)


def table_of(table: Table) -> Table:
    """The Core table (kept so call sites read ``table_of(Ticket)`` as before)."""
    return table
