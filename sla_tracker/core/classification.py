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
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

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


@dataclass(frozen=True)
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

    # Normalised once per ticket, however many rules look at them.
    @cached_property
    def folded_type(self) -> str:
        return normalise(self.type or "")

    @cached_property
    def folded_tags(self) -> frozenset[str]:
        return frozenset(normalise(tag) for tag in self.tags)

    def folded_field(self, key: str) -> Any:
        folded: dict[str, Any] = self.__dict__.setdefault("_folded_fields", {})
        if key not in folded:
            folded[key] = _fold(self.custom_fields.get(key))
        return folded[key]


def normalise(text: str) -> str:
    """Casefold, strip accents, drop other non-ASCII marks and collapse spaces.

    « Accès bloqué ! » → "acces bloque !": French and English keywords match however they
    were typed. Letters with no ASCII base (œ) are dropped on both sides alike.
    """
    return " ".join(_ascii_fold(text).split())


def _ascii_fold(text: str) -> str:
    folded = text.casefold().replace("’", "'")
    if folded.isascii():
        return folded
    # é → e + combining accent; keep the ASCII part.
    return unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")


def searchable(text: str) -> str:
    """Normalised words joined by single spaces, padded: whole-word tests become substring
    tests (`` down `` in ``" the app is down "``), which cost one C-level scan each."""
    return f" {' '.join(_WORD.findall(_ascii_fold(text)))} "


_WORD = re.compile(r"\w+")


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
    _words: frozenset[str] = field(init=False, repr=False, compare=False)
    _phrases: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _folded: dict[str, frozenset[Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One-word keywords are looked up in the ticket's set of words; phrases are padded
        # substrings of its searchable text. Both are whole-word tests done in C.
        needles = [searchable(keyword) for keyword in self.keywords]
        single = frozenset(needle.strip() for needle in needles if needle.count(" ") == 2)
        object.__setattr__(self, "_words", single)
        object.__setattr__(self, "_phrases", tuple(n for n in needles if n.strip() not in single))
        folded = {
            "type": frozenset(normalise(item) for item in self.type),
            "tags": frozenset(normalise(item) for item in self.tags),
        }
        for key, wanted in self.custom_fields.items():
            folded[f"cf:{key}"] = frozenset(_fold(item) for item in wanted)
        object.__setattr__(self, "_folded", folded)

    @property
    def has_keywords(self) -> bool:
        return bool(self._words or self._phrases)

    def holds_for(self, facts: TicketFacts) -> bool:
        """Every condition other than keywords (which a RuleBook tests for all rules at once)."""
        if self.priority and facts.priority not in self.priority:
            return False
        if self.type and facts.folded_type not in self._folded["type"]:
            return False
        if self.tags and self._folded["tags"].isdisjoint(facts.folded_tags):
            return False
        if self.group_id and facts.group_id not in self.group_id:
            return False
        if self.source and facts.source not in self.source:
            return False
        return all(
            facts.folded_field(key) in self._folded[f"cf:{key}"] for key in self.custom_fields
        )


class RuleBook:
    """One decision's ordered rules, with their keywords indexed: a ticket's text is scanned
    once for all of them instead of once per rule."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._by_word: dict[str, set[int]] = {}
        # Phrases are grouped by their first word: only those whose first word the ticket
        # contains are searched for.
        self._phrases: dict[str, list[tuple[str, int]]] = {}
        for index, rule in enumerate(self.rules):
            for word in rule._words:
                self._by_word.setdefault(word, set()).add(index)
            for phrase in rule._phrases:
                self._phrases.setdefault(phrase.split()[0], []).append((phrase, index))
        self._words = frozenset(self._by_word)
        self._first_words = frozenset(self._phrases)
        self._always = frozenset(i for i, rule in enumerate(self.rules) if not rule.has_keywords)

    def first_match(self, facts: TicketFacts, text: str, words: frozenset[str]) -> Rule | None:
        """The first rule whose keywords (if any) and other conditions all hold."""
        matched_words = self._words.intersection(words)
        first_words = self._first_words.intersection(words)
        if not (matched_words or first_words or self._always):
            return None  # the common case for the narrow decisions (external tools…)
        candidates = set(self._always)
        for word in matched_words:
            candidates |= self._by_word[word]
        for first_word in first_words:
            for phrase, index in self._phrases[first_word]:
                if index not in candidates and phrase in text:
                    candidates.add(index)
        rules = self.rules
        for index in sorted(candidates):
            if rules[index].holds_for(facts):
                return rules[index]
        return None


def _fold(value: Any) -> Any:
    """Strings compare normalised; other values (numbers, booleans) as they are."""
    return normalise(value) if isinstance(value, str) else value


class Decision(NamedTuple):
    """A value with its provenance: a rule's name, or a person with a time and a reason."""

    value: Any
    source: str  # "rule" | "person" | "default"
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None


class Override(NamedTuple):
    """A person's decision on one dimension, kept forever (history is append-only)."""

    dimension: str
    value: Any
    by: str
    at: datetime
    reason: str


class Classification(NamedTuple):
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
    rules: Mapping[str, RuleBook | Sequence[Rule]],
    overrides: Iterable[Override] = (),
) -> Classification:
    """Each dimension: the latest person's decision, else the first matching rule, else default.

    Pass RuleBooks when classifying many tickets; plain lists are indexed on each call.
    """
    return apply_overrides(rule_verdict(facts, rules), overrides)


def rule_verdict(
    facts: TicketFacts, rules: Mapping[str, RuleBook | Sequence[Rule]]
) -> Classification:
    """What the rules alone decide: a pure function of the ticket's facts and the rules."""
    text = searchable(f"{facts.subject}\n{facts.description}")
    words = frozenset(text.split())
    decisions = {}
    for dimension in DIMENSIONS:
        book = rules.get(dimension, ())
        book = book if isinstance(book, RuleBook) else RuleBook(book)
        rule = book.first_match(facts, text, words)
        decisions[dimension] = (
            Decision(rule.value, "rule", rule.name)
            if rule
            else Decision(DEFAULTS[dimension], "default")
        )
    return Classification(**decisions)


def apply_overrides(verdict: Classification, overrides: Iterable[Override]) -> Classification:
    """A person's latest decision on a dimension replaces the rules' (SPEC §3)."""
    latest: dict[str, Override] = {}
    for override in sorted(overrides, key=lambda item: item.at):
        latest[override.dimension] = override
    if not latest:
        return verdict
    return verdict._replace(
        **{
            dimension: Decision(chosen.value, "person", chosen.by, chosen.at, chosen.reason)
            for dimension, chosen in latest.items()
        }
    )


def severity_history(
    initial: Severity, created_at: datetime, overrides: Iterable[Override]
) -> list[tuple[datetime, Severity]]:
    """Severity over time: the rules' verdict from the report, then each person's change."""
    history = [(created_at, initial)]
    for override in sorted(overrides, key=lambda item: item.at):
        if override.dimension == "severity":
            history.append((max(override.at, created_at), Severity(override.value)))
    return history
