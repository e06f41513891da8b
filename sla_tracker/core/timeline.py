"""A ticket's status history, rebuilt from successive polls (SPEC §4, "Status history").

Help desks rarely keep a status history: a poll gives the current status and the instant of
its last change, plus the latest instant of a few milestones (when it last went pending,
was resolved, closed, reopened — the adapter says which status each one means). Comparing a
poll with the previous one tells what changed; the milestones let some unseen flips be
inferred; a change that neither explains is recorded as a *gap*, so that a clock depending
on it is flagged for review instead of silently guessed. Statuses are the help desk's
opaque ids here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from datetime import datetime


class TransitionKind(StrEnum):
    OBSERVED = "observed"  # the polled status differs from the stored one
    INFERRED = "inferred"  # deduced from a milestone between two polls
    GAP = "gap"  # the status changed between two polls in a way no milestone explains


class Milestone(NamedTuple):
    """The latest instant a ticket reached a status, as the help desk reports it."""

    at: datetime
    status: int
    evidence: str  # where it comes from, e.g. "stats.resolved_at"


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What one poll says about a ticket's status."""

    status: int
    created_at: datetime
    status_updated_at: datetime | None = None
    milestones: tuple[Milestone, ...] = ()
    opened_as: int | None = None  # the status tickets are created in, when the help desk says

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
        if current.changed_at <= current.created_at or current.opened_as is None:
            return [
                Transition(
                    None, current.status, current.created_at, TransitionKind.OBSERVED, "creation"
                )
            ]
        opened_as = current.opened_as
        evidence = f"creation (opened as status {opened_as})"
        opened = Transition(None, opened_as, current.created_at, TransitionKind.INFERRED, evidence)
        return [opened, *_since(opened_as, current.created_at, current)]
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


def _milestones(current: StatusFacts) -> list[Milestone]:
    return sorted(current.milestones)
