"""Status transitions from successive polls: observed, inferred from stats, or a gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sla_tracker.core.timeline import StatusFacts, Transition, TransitionKind, detect_transitions
from sla_tracker.helpdesk.freshdesk.mapping import status_facts
from sla_tracker.helpdesk.freshdesk.vocabulary import CLOSED, OPEN, PENDING, RESOLVED

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def poll(status: int, created_at: datetime, **stats: Any) -> StatusFacts:
    """A Freshdesk poll's facts, through the adapter's mapping of its stats milestones."""
    return status_facts({"status": status, "created_at": created_at, **stats})


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def kinds(transitions: list[Transition]) -> list[tuple[int | None, int, int, str]]:
    return [
        (t.from_status, t.to_status, int((t.at - T0).total_seconds() // 60), str(t.kind))
        for t in transitions
    ]


def test_first_sight_of_an_untouched_ticket_records_its_creation() -> None:
    facts = poll(OPEN, T0, status_updated_at=T0)
    assert kinds(detect_transitions(None, facts)) == [(None, OPEN, 0, "observed")]


def test_first_sight_of_a_ticket_created_closed() -> None:
    facts = poll(CLOSED, T0, status_updated_at=T0, resolved_at=T0, closed_at=T0)
    assert kinds(detect_transitions(None, facts)) == [(None, CLOSED, 0, "observed")]


def test_first_sight_infers_the_milestones_before_the_current_status() -> None:
    facts = poll(CLOSED, T0, status_updated_at=at(300), resolved_at=at(120), closed_at=at(300))
    assert kinds(detect_transitions(None, facts)) == [
        (None, OPEN, 0, "inferred"),
        (OPEN, RESOLVED, 120, "inferred"),
        (RESOLVED, CLOSED, 300, "observed"),
    ]


def test_nothing_changed() -> None:
    facts = poll(OPEN, T0, status_updated_at=at(10))
    assert detect_transitions(facts, facts) == []


def test_an_observed_change_is_dated_by_status_updated_at() -> None:
    before = poll(OPEN, T0, status_updated_at=T0)
    after = poll(PENDING, T0, status_updated_at=at(45), pending_since=at(45))
    [transition] = detect_transitions(before, after)
    assert (transition.from_status, transition.to_status, transition.at) == (OPEN, PENDING, at(45))
    assert transition.kind is TransitionKind.OBSERVED


def test_a_resolve_and_reopen_between_polls_is_inferred() -> None:
    before = poll(OPEN, T0, status_updated_at=T0)
    after = poll(OPEN, T0, status_updated_at=at(200), resolved_at=at(60), reopened_at=at(200))
    assert kinds(detect_transitions(before, after)) == [
        (OPEN, RESOLVED, 60, "inferred"),
        (RESOLVED, OPEN, 200, "observed"),
    ]


def test_a_flip_no_milestone_explains_is_a_gap() -> None:
    before = poll(OPEN, T0, status_updated_at=T0)
    after = poll(OPEN, T0, status_updated_at=at(90))  # e.g. Open → 6 → Open
    [gap] = detect_transitions(before, after)
    assert (gap.kind, gap.at, gap.from_status, gap.to_status) == (
        TransitionKind.GAP,
        at(90),
        OPEN,
        OPEN,
    )
    assert "unknown" in gap.evidence


def test_old_milestones_are_not_replayed() -> None:
    before = poll(OPEN, T0, status_updated_at=at(100), resolved_at=at(50), reopened_at=at(100))
    after = poll(PENDING, T0, status_updated_at=at(130), resolved_at=at(50),
                        reopened_at=at(100), pending_since=at(130))  # fmt: skip
    assert kinds(detect_transitions(before, after)) == [(OPEN, PENDING, 130, "observed")]
