"""Which promise a ticket carries (SPEC.md §3; clauses C2, C7, C8, C9, C11).

Four decisions are made for each ticket — severity, the GTR record kind, an external link,
non-standard fields — each by the first matching rule of its ordered list, unless a person
decided otherwise: a person's latest decision always wins, and every decision keeps where it
came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime


class Severity(StrEnum):
    BLOCKING = "blocking"  # C7: access or overall use impossible
    MAJOR = "major"  # C7: features unusable, no workaround
    MINOR = "minor"  # C7: misbehaviour with a workaround
    NOT_ANOMALY = "not_anomaly"  # C7: a feature never developed
    UNCLASSIFIED = "unclassified"  # until a rule or a person decides


class GtrObject(StrEnum):
    """C8: the six record kinds whose creation or modification the GTR covers."""

    ACCOUNT = "account"
    CONTACT = "contact"
    ACTION = "action"
    OPPORTUNITY = "opportunity"
    QUOTE = "quote"
    INVOICE = "invoice"
    NONE = "none"


DIMENSIONS = ("severity", "gtr_object", "external_link", "non_standard_fields")
DEFAULTS: dict[str, Any] = {
    "severity": Severity.UNCLASSIFIED,
    "gtr_object": GtrObject.NONE,
    "external_link": False,
    "non_standard_fields": False,
}


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What rules may test about a ticket."""

    id: int
    subject: str = ""
    description: str = ""
    priority: int | None = None
    type: str | None = None
    tags: tuple[str, ...] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    group_id: int | None = None
    source: str | None = None  # the source's name, e.g. "email", "phone"


def normalise(text: str) -> str:
    """Casefold, strip accents, straighten apostrophes and collapse spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.replace("’", "'").replace("«", " ").replace("»", " ").split())


@dataclass(frozen=True)
class Rule:
    """One ordered rule: every condition given must hold; a list holds if any item matches."""

    name: str
    value: Any
    keywords: tuple[str, ...] = ()
    priority: tuple[int, ...] = ()
    type: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    custom_fields: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    group_id: tuple[int, ...] = ()
    source: tuple[str, ...] = ()
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = "|".join(re.escape(normalise(word)) for word in self.keywords)
        object.__setattr__(self, "_pattern", re.compile(rf"\b(?:{words})\b") if words else None)

    def matches(self, facts: TicketFacts, text: str) -> bool:
        """``text`` is the ticket's normalised subject and description."""
        if self._pattern is not None and not self._pattern.search(text):
            return False
        if self.priority and facts.priority not in self.priority:
            return False
        if self.type and normalise(facts.type or "") not in {normalise(t) for t in self.type}:
            return False
        if self.tags and not {normalise(t) for t in facts.tags} & {normalise(t) for t in self.tags}:
            return False
        if self.group_id and facts.group_id not in self.group_id:
            return False
        if self.source and facts.source not in self.source:
            return False
        return all(
            _field_matches(facts.custom_fields.get(key), wanted)
            for key, wanted in self.custom_fields.items()
        )


def _field_matches(value: Any, wanted: tuple[Any, ...]) -> bool:
    if isinstance(value, str):
        return normalise(value) in {normalise(str(item)) for item in wanted}
    return value is not None and value in wanted


@dataclass(frozen=True, slots=True)
class Decision:
    """A value with its provenance: a rule's name, or a person with a time and a reason."""

    value: Any
    source: str  # "rule" | "person" | "default"
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Override:
    """A person's decision on one dimension, kept forever (history is append-only)."""

    dimension: str
    value: Any
    by: str
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Classification:
    severity: Decision
    gtr_object: Decision
    external_link: Decision
    non_standard_fields: Decision

    @property
    def severity_value(self) -> Severity:
        return Severity(self.severity.value)

    def gtr_reasons(self, *, accepted_channel: bool, excluded: bool) -> list[str]:
        """Why the GTR does not apply (SPEC §3); an empty list means it does."""
        reasons = []
        if self.severity.value != Severity.BLOCKING:
            reasons.append(f"severity is {self.severity.value}, not blocking (C8)")
        if self.gtr_object.value == GtrObject.NONE:
            reasons.append("no account, contact, action, opportunity, quote or invoice record (C8)")
        if self.external_link.value:
            reasons.append("data linked to an external tool (C9)")
        if self.non_standard_fields.value:
            reasons.append("non-standard fields involved (C9)")
        if not accepted_channel:
            reasons.append("not reported through an accepted channel (C2)")
        if excluded:
            reasons.append("an exclusion is recorded (C11)")
        return reasons


def classify(
    facts: TicketFacts,
    rules: Mapping[str, Sequence[Rule]],
    overrides: Iterable[Override] = (),
) -> Classification:
    """Each dimension: the latest person's decision, else the first matching rule, else default."""
    text = normalise(f"{facts.subject}\n{facts.description}")
    latest: dict[str, Override] = {}
    for override in sorted(overrides, key=lambda item: item.at):
        latest[override.dimension] = override
    decisions = {}
    for dimension in DIMENSIONS:
        if dimension in latest:
            chosen = latest[dimension]
            decisions[dimension] = Decision(
                chosen.value, "person", chosen.by, chosen.at, chosen.reason
            )
            continue
        rule = next((r for r in rules.get(dimension, ()) if r.matches(facts, text)), None)
        decisions[dimension] = (
            Decision(rule.value, "rule", rule.name)
            if rule
            else Decision(DEFAULTS[dimension], "default")
        )
    return Classification(**decisions)


def severity_history(
    initial: Severity, created_at: datetime, overrides: Iterable[Override]
) -> list[tuple[datetime, Severity]]:
    """Severity over time: the rules' verdict from the report, then each person's change."""
    history = [(created_at, initial)]
    for override in sorted(overrides, key=lambda item: item.at):
        if override.dimension == "severity":
            history.append((max(override.at, created_at), Severity(override.value)))
    return history
