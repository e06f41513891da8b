"""Store → core: rebuild each ticket's facts and history, classify it, run its clocks.

Clocks are never stored as running counters: every call recomputes them from the stored
history and the instant it is given. ``as_of`` answers as the tracker would have at that
instant: only what had been observed by then (polls, transitions, decisions) is used.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from sla_tracker.core.classification import (
    Classification,
    Override,
    apply_overrides,
    rule_verdict,
    severity_history,
)
from sla_tracker.core.clocks import (
    Clock,
    Exclusion,
    Phase,
    StatusChange,
    TicketHistory,
    next_event_after,
    response_clock,
    restoration_clock,
)
from sla_tracker.policies import (
    facts_from_row,
    phase_mapping,
    policy_from_settings,
    rules_fingerprint,
    rules_from_settings,
    verdict_from_json,
    verdict_to_json,
)
from sla_tracker.storage.judging import (
    TransitionRow,
    company_names,
    decisions_known_by,
    descriptions,
    replies_by_ticket,
    stale_verdict_ids,
    store_verdicts,
    ticket_id_chunks,
    ticket_rows,
    transitions_by_ticket,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import Engine

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JudgedTicket:
    """One ticket as the tracker judges it at an instant: its facts, decisions and clocks."""

    id: int
    subject: str | None
    company_id: int | None
    company_name: str | None
    group_id: int | None
    responder_id: int | None  # the agent the ticket is assigned to
    status: int  # the help desk's status id
    open: bool  # not in a restored status
    created_at: datetime
    fr_due_by: datetime | None  # the help desk's own response target
    due_by: datetime | None  # the help desk's own resolution target
    classification: Classification
    accepted_channel: bool
    gtr_reasons: list[str]
    response: Clock
    restoration: Clock
    history: TicketHistory | None
    transitions: Sequence[TransitionRow] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    seen: TicketSighting | None = None  # one-ticket views only
    next_event: datetime | None = None  # when the history itself next changes a clock's rule
    listed: bool = True  # not deleted, spam or gone

    @property
    def needs_review(self) -> list[str]:
        return sorted({*self.response.needs_review, *self.restoration.needs_review})


class TicketSighting(NamedTuple):
    """When the tracker saw a ticket, for the evidence trace."""

    first_seen_at: datetime
    last_seen_at: datetime
    first_responded_at: datetime | None


CHUNK_SIZE = 5_000  # tickets read and judged together: bounded memory, few queries


def evaluate_tickets(
    engine: Engine,
    settings: Settings,
    calendar: BusinessCalendar,
    *,
    now: datetime,
    ticket_ids: Iterable[int] | None = None,
    with_transitions: bool = False,
    keep_verdicts: bool = False,
) -> list[JudgedTicket]:
    """Judge the stored tickets as of ``now``, in id order.

    Without ``ticket_ids``, deleted, spam and gone tickets are left out. With
    ``with_transitions`` each report keeps its transitions, history and every column, for
    the one-ticket views. Tickets are read and judged a chunk at a time.

    Reads never write: only a writing path (the service after a poll) passes
    ``keep_verdicts`` to store the rules' verdicts it had to compute, so that a read command
    never competes with a sync for the database's write lock.
    """
    job = _Job(engine, settings, calendar, now, exact=ticket_ids is not None,
               detail=with_transitions, keep_verdicts=keep_verdicts)  # fmt: skip
    with engine.connect() as connection:
        chunks = ticket_id_chunks(connection, ticket_ids, now, size=CHUNK_SIZE)
    with _no_cyclic_gc():
        return [report for chunk in chunks for report in job.run(chunk)]


def keep_rule_verdicts(
    engine: Engine, settings: Settings, calendar: BusinessCalendar, *, now: datetime
) -> int:
    """The writing path's chore after a poll: classify the tickets whose kept verdict is
    missing or stale and keep it, so that reads need not. Returns how many were classified."""
    stale = stale_verdict_ids(engine, rules_fingerprint(settings))
    if stale:
        evaluate_tickets(engine, settings, calendar, now=now, ticket_ids=stale, keep_verdicts=True)
    return len(stale)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic collector while reports pile up.

    A full evaluation keeps millions of small objects alive until it returns; the collector
    would rescan them over and over (a third of the time for 100,000 tickets). Reports hold
    no reference cycles, so reference counting still frees everything transient.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class _Job:
    """One evaluation: what to judge with, and the small tables every chunk needs."""

    engine: Engine
    settings: Settings
    calendar: BusinessCalendar
    now: datetime
    exact: bool
    detail: bool
    keep_verdicts: bool
    _shared: tuple[Any, Any, Any] | None = None

    def run(self, chunk: list[int]) -> list[JudgedTicket]:
        judge = _Judge(self.settings, self.calendar, now=self.now)
        with self.engine.connect() as connection:
            if self._shared is None:
                overrides, exclusions = decisions_known_by(connection, self.now)
                self._shared = overrides, exclusions, company_names(connection)
            overrides, exclusions, names = self._shared
            rows = ticket_rows(connection, chunk, self.now, detail=self.detail, exact=self.exact)
            stale = [row for row in rows if not judge.has_verdict(row)]
            if stale:  # new polls, or other rules: classify again, from the descriptions
                texts = descriptions(connection, [row["id"] for row in stale])
                for row in stale:
                    row["description_text"] = texts.get(row["id"])
            transitions = transitions_by_ticket(
                connection, chunk, self.now, detail=self.detail, exact=self.exact
            )
            replies = replies_by_ticket(connection, chunk, self.now, exact=self.exact)
        reports = []
        for row in rows:
            if not self.exact and (row["deleted"] or row["spam"] or row["gone"]):
                continue
            ticket_id = row["id"]
            try:
                reports.append(
                    judge(row, names.get(row["company_id"]), transitions.get(ticket_id, []),
                          replies.get(ticket_id, []), overrides.get(ticket_id, []),
                          exclusions.get(ticket_id, []), detail=self.detail)
                )  # fmt: skip
            except Exception as error:  # one ticket's bad data must not stop the others
                log.error("ticket %s cannot be judged, left out: %r", ticket_id, error)
        if self.keep_verdicts:
            store_verdicts(self.engine, judge.computed, judge.fingerprint)
        return reports


class _Judge:
    """Classification and clocks for one ticket, with the settings turned into core objects once."""

    def __init__(self, settings: Settings, calendar: BusinessCalendar, *, now: datetime) -> None:
        self.settings, self.calendar, self.now = settings, calendar, now
        self.rules, self.policy = rules_from_settings(settings), policy_from_settings(settings)
        self.phase_of = phase_mapping(settings)
        self.fingerprint = rules_fingerprint(settings)
        self.computed: list[tuple[int, datetime, dict[str, Any]]] = []  # verdicts to store
        self.accepted = settings.sla.accepted_source_ids
        self.tolerance = settings.crosscheck.tolerance_minutes * 60

    def has_verdict(self, row: Mapping[str, Any]) -> bool:
        """Is the rules' verdict stored with the ticket's poll still that of the rules now?"""
        return bool(row["rule_verdict"]) and row["rule_fingerprint"] == self.fingerprint

    def __call__(
        self,
        row: Mapping[str, Any],
        company_name: str | None,
        transitions: Sequence[TransitionRow],
        replies: Sequence[datetime],
        overrides: Sequence[Mapping[str, Any]],
        exclusions: Sequence[Mapping[str, Any]],
        *,
        detail: bool,
    ) -> JudgedTicket:
        decisions = [_override(entry) for entry in overrides]
        if self.has_verdict(row):
            verdict = verdict_from_json(row["rule_verdict"])  # stored earlier, rules unchanged
        else:
            verdict = rule_verdict(facts_from_row(row), self.rules)
            self.computed.append((row["id"], row["updated_at"], verdict_to_json(verdict)))
        classification = apply_overrides(verdict, decisions)
        by_rules = verdict.severity_value  # the severity history starts with the rules' verdict
        active = _active_exclusions(exclusions)
        accepted_channel = row["source"] in self.accepted
        whole = any(exclusion.start is None and exclusion.end is None for exclusion in active)
        gtr_reasons = classification.gtr_reasons(accepted_channel=accepted_channel, excluded=whole)
        history = TicketHistory(
            created_at=row["created_at"],
            changes=_changes(row, transitions, self.phase_of),
            severities=severity_history(by_rules, row["created_at"], decisions),
            responded_at=_responded_at(row, transitions, self.settings),
            customer_replies=_customer_replies(replies, row["requester_responded_at"]),
            exclusions=active,
            accepted_channel=accepted_channel,
            gtr_eligible=not gtr_reasons,
            gtr_reasons=gtr_reasons,
        )
        response = response_clock(history, self.calendar, self.policy, now=self.now)
        restoration = restoration_clock(history, self.calendar, self.policy, now=self.now)
        sighting = None
        if detail:
            sighting = TicketSighting(
                row["first_seen_at"], row["last_seen_at"], row["first_responded_at"]
            )
        return JudgedTicket(
            id=row["id"],
            subject=row["subject"],
            company_id=row["company_id"],
            company_name=company_name,
            group_id=row["group_id"],
            responder_id=row["responder_id"],
            status=row["status"],
            open=self.phase_of(row["status"]) is not Phase.RESTORED,
            created_at=row["created_at"],
            fr_due_by=row["fr_due_by"],
            due_by=row["due_by"],
            classification=classification,
            accepted_channel=accepted_channel,
            gtr_reasons=gtr_reasons,
            response=response,
            restoration=restoration,
            history=history if detail else None,
            transitions=list(transitions) if detail else [],
            disagreements=disagreements(row["fr_due_by"], response, self.tolerance),
            seen=sighting,
            next_event=next_event_after(history, self.now),
            listed=not (row["deleted"] or row["spam"] or row["gone"]),
        )


def _customer_replies(observed: Sequence[datetime], latest: datetime | None) -> list[datetime]:
    """Every reply kept by the sync, and the poll's latest (which the log may not hold yet)."""
    if latest is None or latest in observed:
        return list(observed)
    return sorted([*observed, latest])


def _override(entry: Mapping[str, Any]) -> Override:
    value: Any = entry["value"]
    if entry["dimension"] in ("external_link", "non_standard_fields"):
        value = value == "true"
    return Override(entry["dimension"], value, entry["by"], entry["at"], entry["reason"])


def _active_exclusions(entries: Sequence[Mapping[str, Any]]) -> list[Exclusion]:
    active: list[Exclusion] = []
    for entry in entries:  # in time order: a revocation lifts every exclusion before it
        if entry["action"] == "revoke":
            active = []
        else:
            active.append(Exclusion(entry["reason"], entry["starts_at"], entry["ends_at"]))
    return active


def _changes(
    row: Mapping[str, Any], transitions: Sequence[TransitionRow], phase_of: Callable[[int], Phase]
) -> list[StatusChange]:
    changes = [
        StatusChange(t.at, phase_of(t.to_status), t.kind, f"status {t.to_status}")
        for t in transitions
    ]
    if not changes or changes[0].at > row["created_at"]:
        changes.insert(0, StatusChange(row["created_at"], Phase.OPEN, "inferred", "status 2"))
    return changes


def _responded_at(
    row: Mapping[str, Any], transitions: Sequence[TransitionRow], settings: Settings
) -> datetime | None:
    """The response-clock stop per ``response.stop_on``: the earliest accepted event."""
    candidates = []
    for event in settings.response.stop_on:
        if event == "first_public_reply":
            candidates.append(row["first_responded_at"])
        elif event == "first_status_change":
            later = [
                t.at for t in transitions if t.from_status is not None and t.at > row["created_at"]
            ]
            candidates.append(min(later, default=None))
        elif event == "first_assignment" and row["responder_id"] is not None:
            candidates.append(row["first_seen_at"])  # an upper bound: assigned by then
    return min((at for at in candidates if at is not None), default=None)


def disagreements(fr_due_by: datetime | None, response: Clock, tolerance: int) -> list[str]:
    """Freshdesk's first-response due date against the contract's response deadline.

    Only like with like: ``fr_due_by`` is Freshdesk's response target. Its ``due_by`` is a
    resolution target, not the 72-hour GTR, so it is shown beside the restoration clock but
    never reported as a disagreement.
    """
    theirs, ours = fr_due_by, response.deadline
    if theirs is None or ours is None or not response.contractual:
        return []
    gap = (theirs - ours).total_seconds()
    if abs(gap) <= tolerance:
        return []
    direction = "earlier" if gap < 0 else "later"
    hours, minutes = divmod(round(abs(gap)) // 60, 60)
    return [
        f"Freshdesk fr_due_by {theirs:%Y-%m-%dT%H:%M:%SZ} is {hours} h {minutes:02d} min "
        f"{direction} than the contract's response deadline"
    ]
