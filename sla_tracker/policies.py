"""Settings turned into core objects, once: classification rules, the clock policy, the
status phases, the indemnity options, and the fingerprints that say when kept verdicts are
stale.

The rules' verdict on a ticket is a pure function of its facts and the rule set, so the sync
stores it with a fingerprint of the rules that produced it; the clock engine reuses it while
the fingerprint matches and recomputes it otherwise (after a rule change). People's
decisions are never cached: they are applied on top at every evaluation.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from sla_tracker.config import SOURCE_IDS
from sla_tracker.core.classification import (
    DIMENSIONS,
    Classification,
    Decision,
    GtrObject,
    Rule,
    RuleBook,
    Severity,
    TicketFacts,
)
from sla_tracker.core.clocks import ClockPolicy, Phase
from sla_tracker.core.indemnity import Basis, Overlap

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sla_tracker.config import Settings

SOURCE_NAMES = {number: name for name, number in SOURCE_IDS.items()}
VALUE_TYPES: dict[str, Any] = {
    "severity": Severity,
    "gtr_object": GtrObject,
    "external_link": bool,
    "non_standard_fields": bool,
}


def rules_from_settings(settings: Settings) -> dict[str, RuleBook]:
    return {
        dimension: RuleBook(
            [Rule(**rule.model_dump()) for rule in getattr(settings.classification, dimension)]
        )
        for dimension in DIMENSIONS
    }


def fingerprint(data: Any) -> str:
    """A short digest of JSON-ready settings: equal settings, equal fingerprints."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def rules_fingerprint(settings: Settings) -> str:
    """Changes whenever a rule (or its order) changes, so a stale verdict is never reused."""
    return fingerprint(settings.classification.model_dump(mode="json"))


def facts_from_row(row: Mapping[str, Any]) -> TicketFacts:
    return TicketFacts(
        id=row["id"],
        subject=row["subject"] or "",
        description=row.get("description_text") or "",
        priority=row["priority"],
        type=row["type"],
        tags=tuple(row["tags"] or ()),
        custom_fields=row["custom_fields"] or {},
        group_id=row["group_id"],
        source=SOURCE_NAMES.get(row["source"]),
    )


def verdict_to_json(verdict: Classification) -> dict[str, list[Any]]:
    return {
        dimension: [_plain(decision.value), decision.source, decision.by]
        for dimension, decision in zip(DIMENSIONS, verdict, strict=True)
    }


def verdict_from_json(data: Mapping[str, list[Any]]) -> Classification:
    return Classification(
        **{
            dimension: Decision(VALUE_TYPES[dimension](value), source, by)
            for dimension, (value, source, by) in data.items()
        }
    )


def _plain(value: Any) -> Any:
    return value if isinstance(value, bool) else str(value)


def policy_from_settings(settings: Settings) -> ClockPolicy:
    response = settings.response
    targets = {Severity.BLOCKING: response.blocking_hours, Severity.MAJOR: response.major_hours}
    if response.minor_internal_hours is not None:
        targets[Severity.MINOR] = response.minor_internal_hours
    return ClockPolicy(
        response_seconds={severity: round(hours * 3600) for severity, hours in targets.items()},
        restoration_seconds=round(settings.restoration.target_hours * 3600),
        reopen=settings.restoration.reopen,
        severity_change=settings.sla.severity_change,
        ends_on_customer_reply=settings.pause.ends_on_customer_reply,
        enforce_from=settings.sla.enforce_from,
    )


def indemnity_options(settings: Settings) -> tuple[Basis, Overlap]:
    """How indemnities count (SPEC §5): calendar or business time; overlaps joined or summed."""
    return Basis(settings.indemnity.basis), Overlap(settings.indemnity.overlap)


def settings_fingerprint(settings: Settings) -> str:
    """A short digest of every setting that can change a verdict (secrets left out)."""
    return fingerprint(settings.model_dump(mode="json", exclude={"freshdesk", "smtp", "database"}))


def phase_mapping(settings: Settings) -> Callable[[int], Phase]:
    """The configured statuses as the clocks see them: paused (C11), restored (C8) or open."""
    paused, restored = set(settings.pause.statuses), set(settings.restoration.restored_statuses)

    def phase_of(status: int) -> Phase:
        if status in paused:
            return Phase.PAUSED
        return Phase.RESTORED if status in restored else Phase.OPEN

    return phase_of
