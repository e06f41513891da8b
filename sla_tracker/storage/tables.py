"""The schema as SQLModel tables: column types that read and write the same on SQLite
and PostgreSQL (aware UTC instants, exact money), and every table the tracker keeps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine.interfaces import Dialect


BIGINT = 2**63  # ids are stored as 64-bit integers: every id must be below it


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


class TicketJudgment(SQLModel, table=True):
    """A ticket's judgment as computed at ``judged_at``, kept so that reads need not rejudge.

    Between two events a clock is a simple function of time, so a later instant's answer is
    derived from this row (``judge.kept``). The indexed instants let listings filter in SQL:
    a clock is breached at ``now`` when ``*_breach_at < now`` and at risk when
    ``*_risk_at <= now`` and it is not breached. The row is valid while ``fingerprint`` is the
    settings' and ``now < valid_until`` (a bounded exclusion, say, changes the rule then);
    writers delete it when they change what it was computed from.
    """

    __tablename__ = "ticket_judgment"
    __table_args__ = (Index("ix_ticket_judgment_open_deadline", "open", "next_deadline"),)

    ticket_id: int = _big_id(primary_key=True)
    fingerprint: str
    judged_at: datetime = _instant(nullable=False, index=True)
    valid_until: datetime | None = _instant(index=True)
    listed: bool = True  # not deleted, spam or gone
    open: bool = True
    company_id: int | None = _big_id(index=True)
    group_id: int | None = _big_id()
    responder_id: int | None = _big_id()
    severity: str
    created_at: datetime = _instant(nullable=False, index=True)
    response_breach_at: datetime | None = _instant(index=True)
    restoration_breach_at: datetime | None = _instant(index=True)
    response_risk_at: datetime | None = _instant(index=True)
    restoration_risk_at: datetime | None = _instant(index=True)
    next_deadline: datetime | None = _instant(index=True)  # of a counting clock: urgent first
    waiting_remaining: int | None = None  # of a clock waiting on the customer: next in line
    body: dict[str, Any] | None = _json()  # the rest of the judgment, to rebuild it


class HelpdeskGroup(SQLModel, table=True):
    """A help-desk group (``GET /api/v2/groups``), for names instead of ``group_id``s.

    Kept when the help desk no longer lists it: old tickets still name it.
    """

    __tablename__ = "helpdesk_group"

    id: int = _big_id(primary_key=True)
    name: str
    business_hour_id: int | None = _big_id()
    updated_at: datetime | None = _instant()
    fetched_at: datetime = _instant(nullable=False)  # the last list that showed it


class HelpdeskAgent(SQLModel, table=True):
    """A help-desk agent (``GET /api/v2/agents``): ``id`` is a ticket's ``responder_id``.

    Kept when the help desk no longer lists it: old tickets still name the person.
    """

    __tablename__ = "helpdesk_agent"

    id: int = _big_id(primary_key=True)
    name: str
    email: str | None = None
    active: bool = True
    updated_at: datetime | None = _instant()
    fetched_at: datetime = _instant(nullable=False)  # the last list that showed it


class JudgmentDirty(SQLModel, table=True):
    """A ticket a writer changed since its judgment was kept (one row per change: a refresh
    clears only the marks it saw, so a change made meanwhile is never lost)."""

    __tablename__ = "judgment_dirty"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = _big_id(index=True, nullable=False)


class JudgmentState(SQLModel, table=True):
    """The fingerprint every kept judgment was made with, once a full refresh completed:
    while it is the settings', stale tickets are the dirty ones and those past their
    ``valid_until``, found through indexes rather than a scan of every ticket."""

    __tablename__ = "judgment_state"

    id: int = Field(default=1, primary_key=True)
    fingerprint: str


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for bulk statements on the hot paths."""
    return cast("Table", model.__table__)  # type: ignore[attr-defined]
