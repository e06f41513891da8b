"""Kept judgments (issue 12): reads answer from each ticket's judgment after its last event.

A clock only changes at an event; between events it is a function of time
(``core.clocks.advance``). So each ticket's judgment is kept (``ticket_judgment``) with the
instants where its answer flips (breach, at-risk threshold) and the instant it stops being
valid (its history's next dated event); a read at any later ``now`` derives the answer from
it without rereading history. Writers delete the judgments of the tickets they change; a
change of rules, calendar or clock settings changes the fingerprint, which makes every kept
judgment stale at once. Stale tickets are judged from history, so a read is never answered
from a stale judgment; ``refresh`` keeps them again. ``--as-of`` an earlier instant always
recomputes from history: that is the reference, and ``verify`` compares the two.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sla_tracker.core.clocks import (
    Clock,
    ClockState,
    advance,
    breach_instant,
    risk_instant,
)
from sla_tracker.judge import CHUNK_SIZE, JudgedTicket, disagreements, evaluate_tickets
from sla_tracker.policies import fingerprint, verdict_from_json, verdict_to_json
from sla_tracker.storage.judging import company_names
from sla_tracker.storage.judgments import (
    Filters,
    analyze_judgments,
    count_kept,
    judged_rows,
    keep_judgments,
    kept_rows,
    record_full_refresh,
    sample_ids,
    stale_ids,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.storage.engine import Engine

log = logging.getLogger(__name__)

CLOCKS = ("response", "restoration")
EVERYTHING = Filters()
JUDGED_SECTIONS = {"calendar", "sla", "response", "restoration", "pause", "classification",
                   "crosscheck"}  # fmt: skip


def listing_threshold(settings: Settings) -> float:
    """``tickets --at-risk``: a running clock past the first alert threshold (SPEC §4)."""
    return min(settings.alerts.thresholds, default=100) / 100


HOLIDAY_YEARS = range(2000, 2041)  # the holidays a calendar's fingerprint covers (10 ms)


def judgment_fingerprint(settings: Settings, calendar: BusinessCalendar) -> str:
    """Everything a judgment depends on besides the ticket's own history and decisions."""
    return fingerprint(
        {
            "settings": settings.model_dump(mode="json", include=JUDGED_SECTIONS),
            "threshold": listing_threshold(settings),
            "calendar": [
                calendar.name,
                calendar.timezone,
                repr(calendar.weekly),
                sorted(map(str, calendar.closed_dates.items())),
                sorted(map(str, calendar.open_dates.items())),
                [sorted(map(str, calendar.holidays_of(year).items())) for year in HOLIDAY_YEARS],
            ],
        }
    )


@dataclass
class Judgments:
    """The kept judgments of one store, seen from one set of settings and one instant."""

    engine: Engine
    settings: Settings
    calendar: BusinessCalendar
    now: datetime

    def __post_init__(self) -> None:
        self.fingerprint = judgment_fingerprint(self.settings, self.calendar)
        self.threshold = listing_threshold(self.settings)
        self.tolerance = self.settings.crosscheck.tolerance_minutes * 60
        self._stale_cache: list[JudgedTicket] | None = None

    def _judge(self, ticket_ids: list[int], *, keep_verdicts: bool = False) -> list[JudgedTicket]:
        """Judge these tickets from their history (the reference)."""
        return evaluate_tickets(self.engine, self.settings, self.calendar, now=self.now,
                                ticket_ids=ticket_ids, keep_verdicts=keep_verdicts)  # fmt: skip

    # -- writing -----------------------------------------------------------------------

    def refresh(
        self,
        ticket_ids: Iterable[int] | None = None,
        *,
        thorough: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Judge again and keep the stale tickets (or those given); returns how many.

        Done by writing paths only (sync, the service, ``refresh``): reads never write.
        """
        with self.engine.connect() as connection:
            stale = stale_ids(connection, self.fingerprint, self.now, thorough=thorough)
        ids = stale.ids if ticket_ids is None else sorted(set(ticket_ids))
        for start in range(0, len(ids), CHUNK_SIZE):
            chunk = ids[start : start + CHUNK_SIZE]
            reports = self._judge(chunk, keep_verdicts=True)
            judged = {report.id for report in reports}
            failed = [ticket_id for ticket_id in chunk if ticket_id not in judged]
            keep_judgments(self.engine, [self._row(report) for report in reports],
                           last_mark=stale.last_mark, failed=failed)  # fmt: skip
            if progress is not None:
                progress(min(start + CHUNK_SIZE, len(ids)), len(ids))
        if ticket_ids is None and stale.full:
            record_full_refresh(self.engine, self.fingerprint)
        if len(ids) >= ANALYZE_AFTER:
            analyze_judgments(self.engine)
        return len(ids)

    def _row(self, report: JudgedTicket) -> dict[str, Any]:
        clocks = (report.response, report.restoration)
        breaches = [
            breach_instant(clock, self.calendar, self.now) if clock.contractual else None
            for clock in clocks
        ]
        risks = [
            risk_instant(clock, self.calendar, self.now, self.threshold)
            if clock.contractual
            else None
            for clock in clocks
        ]
        deadline, waiting = _order_parts(report)
        return {
            "ticket_id": report.id,
            "fingerprint": self.fingerprint,
            "judged_at": self.now,
            "valid_until": report.next_event,
            "listed": report.listed,
            "open": report.open,
            "company_id": report.company_id,
            "group_id": report.group_id,
            "responder_id": report.responder_id,
            "severity": report.classification.severity.value,
            "created_at": report.created_at,
            "response_breach_at": breaches[0],
            "restoration_breach_at": breaches[1],
            "response_risk_at": risks[0],
            "restoration_risk_at": risks[1],
            "next_deadline": deadline,
            "waiting_remaining": waiting,
            "body": _body(report),
        }

    # -- reading -----------------------------------------------------------------------

    def from_history(self) -> list[JudgedTicket]:
        """Every listed ticket judged from its history at ``now`` (the reference)."""
        return evaluate_tickets(self.engine, self.settings, self.calendar, now=self.now)

    def stale(self) -> list[int]:
        with self.engine.connect() as connection:
            return stale_ids(connection, self.fingerprint, self.now).ids

    def _judged_stale(self) -> list[JudgedTicket]:
        """The listed stale tickets judged from history, once per instance (a listing and its
        count ask for them both), in ``listing_order``."""
        if self._stale_cache is None:
            stale = self.stale()
            if len(stale) > STALE_NOTICE:
                log.warning(
                    "refreshing %d tickets: their kept judgments are out of date (new polls, "
                    "or other rules, calendar or clock settings); answering from their history "
                    "meanwhile, which is slower. `sla-tracker refresh` (or the service) keeps "
                    "them.",
                    len(stale),
                )
            judged = [report for report in self._judge(stale) if report.listed]
            self._stale_cache = sorted(judged, key=listing_order)
        return self._stale_cache

    def tickets(
        self, filters: Filters = EVERYTHING, *, limit: int | None = None
    ) -> Iterator[JudgedTicket]:
        """The listed tickets matching ``filters`` at ``now``, soonest deadline first.

        Kept judgments stream from SQL; the few stale tickets are judged from history and
        merged in, so the answer is always current.
        """
        fresh = [report for report in self._judged_stale() if matches(report, filters, self)]
        with self.engine.connect() as connection:
            names = company_names(connection)
            kept = (
                self._project(row, names)
                for row in kept_rows(connection, self.fingerprint, self.now, filters, limit=limit)
            )
            merged = heapq.merge(fresh, kept, key=listing_order)
            for index, report in enumerate(merged):
                if limit is not None and index >= limit:
                    return
                yield report

    def count(self, filters: Filters = EVERYTHING) -> int:
        """How many listed tickets match ``filters`` at ``now``."""
        fresh = sum(1 for report in self._judged_stale() if matches(report, filters, self))
        with self.engine.connect() as connection:
            return fresh + count_kept(connection, self.fingerprint, self.now, filters)

    def _project(self, row: dict[str, Any], names: dict[int, str]) -> JudgedTicket:
        body, judged_at = row["body"], row["judged_at"]
        response, restoration = (
            advance(_clock(body[name]), self.calendar, judged_at, self.now) for name in CLOCKS
        )
        fr_due_by = _instant(body["fr_due_by"])
        return JudgedTicket(
            id=row["ticket_id"],
            subject=body["subject"],
            company_id=row["company_id"],
            company_name=names.get(row["company_id"]) if row["company_id"] is not None else None,
            group_id=row["group_id"],
            responder_id=row["responder_id"],
            status=body["status"],
            open=body["open"],
            created_at=datetime.fromisoformat(body["created_at"]),
            fr_due_by=fr_due_by,
            due_by=_instant(body["due_by"]),
            classification=verdict_from_json(body["classification"]),
            accepted_channel=body["accepted_channel"],
            gtr_reasons=body["gtr_reasons"],
            response=response,
            restoration=restoration,
            history=None,
            disagreements=disagreements(fr_due_by, response, self.tolerance),
            listed=True,
        )

    def _usable(self, row: dict[str, Any]) -> bool:
        """Would a read at ``now`` use this kept row (rather than judge from history)?"""
        valid_until = row["valid_until"]
        return (
            row["fingerprint"] == self.fingerprint
            and row["judged_at"] <= self.now
            and (valid_until is None or valid_until > self.now)
        )

    # -- proof -------------------------------------------------------------------------

    def verify(self, sample: int | None = None) -> list[str]:
        """Recompute kept tickets from history and list every difference from the kept
        judgment advanced to ``now`` (empty: kept equals recomputed)."""
        with self.engine.connect() as connection:
            ids = sample_ids(connection, sample)
            names = company_names(connection)
        differences: list[str] = []
        for start in range(0, len(ids), CHUNK_SIZE):
            chunk = ids[start : start + CHUNK_SIZE]
            with self.engine.connect() as connection:
                rows = judged_rows(connection, chunk)
            recomputed = {report.id: report for report in self._judge(chunk)}
            for ticket_id in chunk:
                row = rows.get(ticket_id)
                if row is None or ticket_id not in recomputed:
                    continue  # forgotten meanwhile by a writer: stale, not wrong
                if not self._usable(row):
                    continue  # not used by reads: they judge it from history
                kept = self._project(row, names)
                differences += _differences(kept, recomputed[ticket_id])
        return differences


ANALYZE_AFTER = 10_000  # judgments kept by one refresh after which the statistics are renewed
STALE_NOTICE = 2_000  # more stale tickets than this: say the answer waits on a refresh


def listing_order(report: JudgedTicket) -> tuple[bool, datetime, bool, int, int]:
    """Most urgent first: the soonest deadline of a contractual clock still counting, then
    the least time left on one waiting on the customer, then the id.

    Both are fixed between two events (a counting clock's deadline does not move, a waiting
    one's time left does not shrink), so kept judgments are read in this order from SQL and
    tickets judged from history merge into it.
    """
    deadline, waiting = _order_parts(report)
    return (deadline is None, deadline or LAST, waiting is None, waiting or 0, report.id)


LAST = datetime.max.replace(tzinfo=UTC)


def _order_parts(report: JudgedTicket) -> tuple[datetime | None, int | None]:
    clocks = [c for c in (report.response, report.restoration) if c.contractual]
    deadlines = [c.deadline for c in clocks if c.counting and c.deadline is not None]
    waiting = [
        c.remaining_seconds
        for c in clocks
        if not c.counting
        and c.stopped_at is None
        and c.state in (ClockState.PAUSED, ClockState.BREACHED)
        and c.remaining_seconds is not None
    ]
    return min(deadlines, default=None), min(waiting, default=None)


def matches(report: JudgedTicket, filters: Filters, judgments: Judgments) -> bool:
    """Does a ticket judged from history pass the filters the SQL applies to kept ones?"""
    threshold = judgments.threshold
    clocks = (report.response, report.restoration)
    return (
        (not filters.only_open or report.open)
        and (filters.severity is None or report.classification.severity.value == filters.severity)
        and (filters.company_id is None or report.company_id == filters.company_id)
        and (filters.group_id is None or report.group_id == filters.group_id)
        and (filters.responder_id is None or report.responder_id == filters.responder_id)
        and (not filters.at_risk or any(clock.at_risk(threshold) for clock in clocks))
        and (not filters.breached or any(clock.breached for clock in clocks))
        and (
            not filters.urgent
            or (report.open and any(c.breached or c.at_risk(threshold) for c in clocks))
        )
        and (not filters.gtr_breached or report.restoration.breached)
        and (filters.created_from is None or report.created_at >= filters.created_from)
        and (filters.created_before is None or report.created_at < filters.created_before)
    )


CLOCK_FIELDS = ("name", "state", "target_seconds", "elapsed_seconds", "remaining_seconds",
                "deadline", "breached_at", "stopped_at", "started_at", "contractual", "reason",
                "needs_review", "counting")  # fmt: skip


def _body(report: JudgedTicket) -> dict[str, Any]:
    return {
        "subject": report.subject,
        "status": report.status,
        "open": report.open,
        "created_at": _text(report.created_at),
        "fr_due_by": _text(report.fr_due_by),
        "due_by": _text(report.due_by),
        "classification": verdict_to_json(report.classification),
        "accepted_channel": report.accepted_channel,
        "gtr_reasons": list(report.gtr_reasons),
        "response": _clock_json(report.response),
        "restoration": _clock_json(report.restoration),
    }


def _clock_json(clock: Clock) -> dict[str, Any]:
    data = {name: getattr(clock, name) for name in CLOCK_FIELDS}
    for name in ("deadline", "breached_at", "stopped_at", "started_at"):
        data[name] = _text(data[name])
    data["needs_review"] = list(clock.needs_review)
    return data


def _clock(data: dict[str, Any]) -> Clock:
    values = dict(data)
    for name in ("deadline", "breached_at", "stopped_at", "started_at"):
        values[name] = _instant(values[name])
    values["state"] = ClockState(values["state"])
    values["needs_review"] = tuple(values["needs_review"])
    return Clock(**values)


def _text(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _differences(kept: JudgedTicket, recomputed: JudgedTicket) -> list[str]:
    found = []
    for name in ("status", "open", "company_id", "group_id", "responder_id", "subject",
                 "accepted_channel", "gtr_reasons", "disagreements"):  # fmt: skip
        if getattr(kept, name) != getattr(recomputed, name):
            found.append(f"ticket {kept.id}: {name} kept {getattr(kept, name)!r}, "
                         f"recomputed {getattr(recomputed, name)!r}")  # fmt: skip
    if verdict_to_json(kept.classification) != verdict_to_json(recomputed.classification):
        found.append(f"ticket {kept.id}: classification differs")
    for name in CLOCKS:
        mine, theirs = getattr(kept, name), getattr(recomputed, name)._replace(not_counted=())
        for field in CLOCK_FIELDS:
            if field == "counting":
                continue
            if getattr(mine, field) != getattr(theirs, field):
                found.append(f"ticket {kept.id}: {name} {field} kept {getattr(mine, field)!r}, "
                             f"recomputed {getattr(theirs, field)!r}")  # fmt: skip
    return found
