"""A ticket's status history, rebuilt from successive polls (SPEC.md §4, "Status history").

Freshdesk's API has no status history: a poll gives the current status and the instant of
its last change (``stats.status_updated_at``), plus the latest instant of a few milestones
(``pending_since``, ``resolved_at``, ``closed_at``, ``reopened_at``). Comparing a poll with
the previous one tells what changed; the milestones let some unseen flips be inferred; a
change that neither explains is recorded as a *gap*, so that a clock depending on it is
flagged for review instead of silently guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

OPEN, PENDING, RESOLVED, CLOSED = 2, 3, 4, 5


class TransitionKind(StrEnum):
    OBSERVED = "observed"  # the polled status differs from the stored one
    INFERRED = "inferred"  # deduced from a stats milestone between two polls
    GAP = "gap"  # the status changed between two polls in a way no milestone explains


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What one poll says about a ticket's status."""

    status: int
    created_at: datetime
    status_updated_at: datetime | None = None
    pending_since: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopened_at: datetime | None = None

    @property
    def changed_at(self) -> datetime:
        return self.status_updated_at or self.created_at


@dataclass(frozen=True, slots=True)
class Transition:
    from_status: int | None  # None: the ticket's creation
    to_status: int
    at: datetime
    kind: TransitionKind
    evidence: str


def detect_transitions(previous: StatusFacts | None, current: StatusFacts) -> list[Transition]:
    """Transitions between the stored poll (None on first sight) and the current one.

    Returns them in time order; an empty list means nothing changed. A first sight records
    the creation, and what happened between creation and the current status as far as
    the milestones tell.
    """
    if previous is None:
        if current.changed_at <= current.created_at:
            return [
                Transition(
                    None, current.status, current.created_at, TransitionKind.OBSERVED, "creation"
                )
            ]
        opened = Transition(
            None, OPEN, current.created_at, TransitionKind.INFERRED, "creation (opened as Open)"
        )
        return [opened, *_since(OPEN, current.created_at, current)]
    if current.changed_at <= previous.changed_at and current.status == previous.status:
        return []
    return _since(previous.status, previous.changed_at, current)


def _since(status: int, known_until: datetime, current: StatusFacts) -> list[Transition]:
    """What led from ``status`` (known at ``known_until``) to the current poll."""
    transitions = []
    for at, to_status, evidence in _milestones(current):
        if known_until < at < current.changed_at and to_status != status:
            transitions.append(Transition(status, to_status, at, TransitionKind.INFERRED, evidence))
            status = to_status
    if status != current.status:
        transitions.append(
            Transition(
                status,
                current.status,
                max(current.changed_at, known_until),
                TransitionKind.OBSERVED,
                "polled status (at stats.status_updated_at)",
            )
        )
    elif not transitions and current.changed_at > known_until:
        transitions.append(
            Transition(
                status,
                status,
                current.changed_at,
                TransitionKind.GAP,
                "status changed and changed back between two polls; the status in between "
                "is unknown",
            )
        )
    return transitions


def _milestones(current: StatusFacts) -> list[tuple[datetime, int, str]]:
    found = [
        (current.pending_since, PENDING, "stats.pending_since"),
        (current.resolved_at, RESOLVED, "stats.resolved_at"),
        (current.closed_at, CLOSED, "stats.closed_at"),
        (current.reopened_at, OPEN, "stats.reopened_at"),
    ]
    return sorted((at, status, evidence) for at, status, evidence in found if at is not None)
