"""SLA clocks of a ticket, recomputed from its history (SPEC.md §4; clauses C4–C6, C8, C11).

Two clocks count business seconds from the report: the response clock (*prise en compte*,
C4 blocking 2 h, C5 major 4 h, C6 minor none) and the restoration clock (GTR, C8, 72 h,
GTR-eligible tickets only). Neither counts while the ticket waits on the customer (C11) or
during an excluded interval. Nothing here is a running counter: every figure is derived
from the stored history and the instant ``now`` the caller passes in.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from sla_tracker.core.classification import Severity
from sla_tracker.core.intervals import Interval, subtract

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sla_tracker.core.calendar import BusinessCalendar

RESPONSE, RESTORATION = "response", "restoration"


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"  # still running past its target
    BREACHED_CLOSED = "breached_closed"  # stopped after its target
    NOT_APPLICABLE = "not_applicable"


class Phase(StrEnum):
    """What a help-desk status means to the clocks; the adapter maps its statuses to these."""

    OPEN = "open"  # the provider is answerable: clocks count
    PAUSED = "paused"  # waiting on the customer (C11): clocks stop
    RESTORED = "restored"  # restored (C8), until a reopen says otherwise


class StatusChange(NamedTuple):
    at: datetime
    phase: Phase
    kind: str = "observed"  # observed | inferred | gap (see core/timeline.py)
    label: str = ""  # the help desk's name for the status, for explanations


class Exclusion(NamedTuple):
    """C11: an interval (no bounds: the whole ticket) the provider is not answerable for."""

    reason: str
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class ClockPolicy:
    """The options of SPEC §4, each with its SPEC default in config."""

    response_seconds: Mapping[Severity, int]  # C4/C5 (minor only if an internal target is set)
    restoration_seconds: int = 72 * 3600  # C8
    minor_is_internal: bool = True  # C6: a minor target is never contractual
    reopen: str = "continuous"  # or "paused"
    severity_change: str = "retroactive"  # or "from_change"
    ends_on_customer_reply: bool = True
    enforce_from: datetime | None = None


@dataclass(frozen=True)
class TicketHistory:
    """Everything the clocks need about one ticket, as the store knows it."""

    created_at: datetime
    changes: Sequence[StatusChange]  # time order; the first is the status at creation
    severities: Sequence[tuple[datetime, Severity]]  # time order; the last is the final one
    responded_at: datetime | None = None  # the response-clock stop event (response.stop_on)
    customer_replies: Sequence[datetime] = ()  # every customer reply observed, in time order
    exclusions: Sequence[Exclusion] = ()
    accepted_channel: bool = True
    gtr_eligible: bool = False
    gtr_reasons: Sequence[str] = ()

    def known_at(self, now: datetime) -> TicketHistory:
        """The history as it stood at ``now``: a clock's past never depends on later events."""
        changes, replies = self.changes, self.customer_replies
        if (not changes or changes[-1].at <= now) and (not replies or replies[-1] <= now):
            return self
        return replace(
            self,
            changes=[change for change in changes if change.at <= now] or changes[:1],
            customer_replies=[reply for reply in replies if reply <= now],
        )

    @cached_property
    def status_runs(self) -> list[tuple[datetime, datetime | None, StatusChange]]:
        """(from, until or None, change) for each stretch of one status; both clocks use it."""
        changes = list(self.changes)
        return [
            (change.at, changes[index + 1].at if index + 1 < len(changes) else None, change)
            for index, change in enumerate(changes)
        ]


class Clock(NamedTuple):
    """A clock's verdict (a named tuple: thousands are built per evaluation, cheaply)."""

    name: str
    state: ClockState
    target_seconds: int | None = None
    elapsed_seconds: int = 0
    remaining_seconds: int | None = None
    deadline: datetime | None = None  # when the budget is (or would be) used up
    breached_at: datetime | None = None  # the first instant past the target (SPEC §4)
    stopped_at: datetime | None = None
    started_at: datetime | None = None
    contractual: bool = True
    reason: str | None = None  # why not applicable
    not_counted: tuple[tuple[Interval, str], ...] = ()  # pauses and exclusions, with why
    needs_review: tuple[str, ...] = ()
    counting: bool = False  # adding business time at the instant it was judged

    @property
    def used_fraction(self) -> float:
        if not self.target_seconds:
            return 0.0
        return self.elapsed_seconds / self.target_seconds

    @property
    def margin_seconds(self) -> int | None:
        """Business seconds left when a clock with a target was met."""
        return self.remaining_seconds if self.state is ClockState.MET else None

    @property
    def breached(self) -> bool:
        """A contractual target missed, whether the clock still runs or has stopped (SPEC §4)."""
        return self.contractual and self.state in (ClockState.BREACHED, ClockState.BREACHED_CLOSED)

    def at_risk(self, threshold: float) -> bool:
        """Still counting toward a contractual target, with at least ``threshold`` (a fraction)
        of it used: what the alerts, the report and ``tickets --at-risk`` watch (SPEC §4)."""
        counting = self.state in (ClockState.RUNNING, ClockState.PAUSED)
        return self.contractual and counting and self.used_fraction >= threshold


def response_clock(
    history: TicketHistory, calendar: BusinessCalendar, policy: ClockPolicy, *, now: datetime
) -> Clock:
    """The *prise en compte* clock: from the report to the first response."""
    history = history.known_at(now)
    severity = history.severities[-1][1]
    blocked = _not_judged(history, policy)
    target = policy.response_seconds.get(severity)
    if blocked or target is None:
        reason = blocked or f"severity {severity}: no response target (C6/C7)"
        return Clock(RESPONSE, ClockState.NOT_APPLICABLE, reason=reason)
    restored = _restored_runs(history)
    stops = [at for at in (history.responded_at, restored[0][0] if restored else None) if at]
    contractual = not (severity == Severity.MINOR and policy.minor_is_internal)
    return _run(RESPONSE, history, calendar, policy, target, min(stops, default=None),
                now=now, contractual=contractual)  # fmt: skip


def restoration_clock(
    history: TicketHistory, calendar: BusinessCalendar, policy: ClockPolicy, *, now: datetime
) -> Clock:
    """The GTR clock: from the report to the restoration that was not undone (C8)."""
    history = history.known_at(now)
    blocked = _not_judged(history, policy)
    if blocked or not history.gtr_eligible:
        reason = blocked or "not GTR-eligible: " + "; ".join(history.gtr_reasons)
        return Clock(RESTORATION, ClockState.NOT_APPLICABLE, reason=reason)
    restored = _restored_runs(history)
    final = restored[-1] if restored and restored[-1][1] is None else None
    return _run(RESTORATION, history, calendar, policy, policy.restoration_seconds,
                final[0] if final else None, now=now, contractual=True)  # fmt: skip


def _not_judged(history: TicketHistory, policy: ClockPolicy) -> str | None:
    if not history.accepted_channel:
        return "not reported through an accepted channel (C2)"
    if policy.enforce_from and history.created_at < policy.enforce_from:
        return "created before sla.enforce_from"
    if any(exclusion.start is None and exclusion.end is None for exclusion in history.exclusions):
        return "excluded (C11)"
    return None


def _run(
    name: str,
    history: TicketHistory,
    calendar: BusinessCalendar,
    policy: ClockPolicy,
    target: int,
    stop: datetime | None,
    *,
    now: datetime,
    contractual: bool,
) -> Clock:
    start = _start(history, policy)
    if stop is not None and stop > now:  # answering as of an earlier instant
        stop = None
    end = max(start, stop if stop is not None else now)
    not_counted = _not_counted(name, history, policy, start, end)
    counted = subtract([(start, end)], [interval for interval, _ in not_counted])
    elapsed, deadline, breached_at = 0, None, None
    for interval_start, interval_end in counted:
        seconds = calendar.business_seconds(interval_start, interval_end)
        if deadline is None and elapsed + seconds >= target:
            deadline = calendar.add_business_seconds(interval_start, target - elapsed)
        if deadline is not None and breached_at is None:
            # Strict breach: the first counted business instant after the budget is used up
            # (the next opening when the deadline is a closing time).
            candidate = calendar.next_open_instant(max(interval_start, deadline))
            if candidate < interval_end:
                breached_at = candidate
        elapsed += seconds
    remaining = max(0, target - elapsed)
    paused = stop is None and _paused_at(history, policy, now)
    if breached_at is not None:
        state = ClockState.BREACHED_CLOSED if stop is not None else ClockState.BREACHED
    elif stop is not None:
        state = ClockState.MET
    else:
        state = ClockState.PAUSED if paused else ClockState.RUNNING
    if deadline is None:  # not used up yet: when it would be, if it counted from the end on
        deadline = calendar.add_business_seconds(end, remaining)
    review = tuple(
        f"status changed and changed back unseen at {change.at.isoformat()}: a pause may be missing"
        for change in history.changes
        if change.kind == "gap" and start <= change.at <= end
    )
    return Clock(name, state, target, elapsed, remaining, deadline, breached_at, stop, start,
                 contractual, None, tuple(not_counted), review,
                 counting=stop is None and not paused and now >= start)  # fmt: skip


def _pause_end(
    history: TicketHistory, policy: ClockPolicy, run_start: datetime, run_end: datetime | None
) -> datetime | None:
    """The first customer reply inside a pause ends it (SPEC §4); later replies never move it."""
    if not policy.ends_on_customer_reply:
        return None
    replies = history.customer_replies
    index = bisect_right(replies, run_start)
    if index < len(replies) and (run_end is None or replies[index] < run_end):
        return replies[index]
    return None


def _paused_at(history: TicketHistory, policy: ClockPolicy, now: datetime) -> bool:
    """Is the ticket waiting on the customer, or excluded, at this instant?"""
    for run_start, until, change in history.status_runs:
        paused = change.phase is Phase.PAUSED
        if paused and run_start <= now and (until is None or now < until):
            reply = _pause_end(history, policy, run_start, until)
            if reply is None or now < reply:
                return True
    return any(
        (exclusion.start is None or exclusion.start <= now)
        and (exclusion.end is None or now < exclusion.end)
        for exclusion in history.exclusions
        if exclusion.start is not None or exclusion.end is not None
    )


def _start(history: TicketHistory, policy: ClockPolicy) -> datetime:
    if policy.severity_change != "from_change":
        return history.created_at
    final = history.severities[-1][1]
    start = history.created_at
    previous = None
    for at, severity in history.severities:
        if severity == final and previous != final:
            start = at
        previous = severity
    return max(start, history.created_at)


def _restored_runs(history: TicketHistory) -> list[tuple[datetime, datetime | None]]:
    """Stretches in a restored status (Resolved then Closed is one stretch)."""
    runs: list[tuple[datetime, datetime | None]] = []
    for start, until, change in history.status_runs:
        if change.phase is not Phase.RESTORED:
            continue
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], until)
        else:
            runs.append((start, until))
    return runs


def _not_counted(
    name: str, history: TicketHistory, policy: ClockPolicy, start: datetime, end: datetime
) -> list[tuple[Interval, str]]:
    """Intervals within [start, end) that do not count, each with the reason."""
    found: list[tuple[Interval, str]] = []
    for run_start, until, change in history.status_runs:
        if change.phase is not Phase.PAUSED:
            continue
        run_end = until or end
        why = f"paused: {change.label or 'status'}, waiting on the customer (C11)"
        reply = _pause_end(history, policy, run_start, run_end)
        if reply is not None:
            run_end, why = reply, why + " until the customer replied"
        found.append(((run_start, run_end), why))
    if name == RESTORATION and policy.reopen == "paused":
        for run_start, until in _restored_runs(history):
            if until is not None:
                why = "restored, then reopened (restoration.reopen = paused)"
                found.append(((run_start, until), why))
    for exclusion in history.exclusions:
        if exclusion.start is not None or exclusion.end is not None:
            interval = (exclusion.start or start, exclusion.end or end)
            found.append((interval, f"excluded: {exclusion.reason} (C11)"))
    clipped = [((max(a, start), min(b, end)), why) for (a, b), why in found]
    return sorted(((a, b), why) for (a, b), why in clipped if a < b)


def next_event_after(history: TicketHistory, instant: datetime) -> datetime | None:
    """The first instant after ``instant`` at which the history itself changes a clock's rule
    (a dated status change, reply, response or severity, an exclusion's bound, a start): until
    then a clock judged at ``instant`` moves only with time (see ``advance``)."""
    candidates = [change.at for change in history.changes]
    candidates += history.customer_replies
    candidates += [at for at, _severity in history.severities]
    for exclusion in history.exclusions:
        candidates += [bound for bound in (exclusion.start, exclusion.end) if bound is not None]
    candidates += [history.created_at] + ([history.responded_at] if history.responded_at else [])
    return min((at for at in candidates if at > instant), default=None)


def breach_instant(
    clock: Clock, calendar: BusinessCalendar, judged_at: datetime
) -> datetime | None:
    """When the clock judged at ``judged_at`` is (or will be, if it keeps counting) breached.

    A counting clock's deadline never moves, and the strict breach is the first counted
    business instant past it (SPEC §4); a paused or stopped one breaches only if it already has.
    """
    if clock.breached_at is not None or not clock.counting or clock.deadline is None:
        return clock.breached_at
    return calendar.next_open_instant(max(clock.deadline, judged_at))


def risk_instant(
    clock: Clock, calendar: BusinessCalendar, judged_at: datetime, threshold: float
) -> datetime | None:
    """When the clock judged at ``judged_at`` has used ``threshold`` of its target (``at_risk``),
    if nothing happens meanwhile; None if it never will without an event."""
    if clock.state not in (ClockState.RUNNING, ClockState.PAUSED) or not clock.target_seconds:
        return None
    needed = math.ceil(threshold * clock.target_seconds)
    while needed / clock.target_seconds < threshold:  # float rounding: the first whole second
        needed += 1
    if clock.elapsed_seconds >= needed:
        return judged_at
    if not clock.counting:
        return None
    return calendar.add_business_seconds(judged_at, needed - clock.elapsed_seconds)


def advance(clock: Clock, calendar: BusinessCalendar, judged_at: datetime, now: datetime) -> Clock:
    """The clock at ``now`` from its judgment at ``judged_at``, when nothing happened between.

    Between two events a clock is a simple function of time: a counting one adds the business
    seconds elapsed and breaches at ``breach_instant``; a paused one keeps its count while its
    would-be deadline slides with ``now``; a stopped one never changes. The result equals what
    ``response_clock``/``restoration_clock`` compute from the history at ``now`` (a property
    test and ``sla-tracker verify`` hold it to that), without the pause/exclusion detail.
    """
    if clock.stopped_at is not None or clock.state is ClockState.NOT_APPLICABLE:
        return clock
    if now <= judged_at or (clock.started_at is not None and now <= clock.started_at):
        return clock  # not started yet: its would-be deadline counts from its start
    target = clock.target_seconds or 0
    if not clock.counting:
        if clock.breached_at is not None or clock.elapsed_seconds >= target:
            return clock
        return clock._replace(
            deadline=calendar.add_business_seconds(now, clock.remaining_seconds or 0)
        )
    elapsed = clock.elapsed_seconds + calendar.business_seconds(judged_at, now)
    breach = breach_instant(clock, calendar, judged_at)
    breached_at = breach if breach is not None and breach < now else None
    state = ClockState.BREACHED if breached_at is not None else ClockState.RUNNING
    return clock._replace(
        state=state,
        elapsed_seconds=elapsed,
        remaining_seconds=max(0, target - elapsed),
        breached_at=breached_at,
    )


class Segment(NamedTuple):
    """One stretch of a clock's life, counted or not, and why."""

    start: datetime
    end: datetime
    business_seconds: int
    why: str
    counted: bool


def explain(clock: Clock, calendar: BusinessCalendar, *, now: datetime) -> list[Segment]:
    """Every interval from the clock's start to its stop (or ``now``): counted or not, and why."""
    if clock.state is ClockState.NOT_APPLICABLE or clock.started_at is None:
        return []
    end = clock.stopped_at or now
    segments = [
        Segment(a, b, calendar.business_seconds(a, b), why, counted=False)
        for (a, b), why in clock.not_counted
    ]
    holes = [interval for interval, _ in clock.not_counted]
    for start, stop in subtract([(clock.started_at, end)], holes):
        cursor = start
        for window_start, window_end in calendar.open_windows(start, stop):
            if cursor < window_start:
                why = calendar.closure_reason(cursor, window_start)
                segments.append(Segment(cursor, window_start, 0, why, counted=False))
            seconds = calendar.business_seconds(window_start, window_end)
            segments.append(
                Segment(window_start, window_end, seconds, "counted: opening hours", counted=True)
            )
            cursor = window_end
        if cursor < stop:
            segments.append(
                Segment(cursor, stop, 0, calendar.closure_reason(cursor, stop), counted=False)
            )
    return sorted(segments, key=lambda segment: segment.start)
