"""Classification rules: matching, order, provenance, people over rules, GTR conditions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sla_tracker.config import Settings
from sla_tracker.core.classification import (
    GtrObject,
    Override,
    Rule,
    Severity,
    TicketFacts,
    classify,
    normalise,
    severity_history,
)
from sla_tracker.judge import rules_from_settings

RULES = rules_from_settings(Settings())
T0 = datetime(2026, 11, 30, 9, tzinfo=UTC)


def decide(subject: str, description: str = "", **facts: object) -> dict[str, object]:
    result = classify(TicketFacts(1, subject, description, **facts), RULES)  # type: ignore[arg-type]
    return {
        "severity": result.severity.value,
        "gtr_object": result.gtr_object.value,
        "external_link": result.external_link.value,
        "non_standard_fields": result.non_standard_fields.value,
    }


def test_normalise_folds_case_accents_and_quotes() -> None:
    assert (
        normalise("  IMPOSSIBLE  d’accéder « Fiche Compte » ")
        == "impossible d'acceder fiche compte"
    )


@pytest.mark.parametrize(
    ("subject", "severity", "gtr_object"),
    [
        ("IMPOSSIBLE DE SE CONNECTER depuis ce matin", "blocking", "none"),
        ("Plus aucun acces a l'application", "blocking", "none"),
        ("Application inaccessible", "blocking", "none"),
        ("Bloqué : impossible de créer une facture", "blocking", "invoice"),
        ("Impossible d'enregistrer un devis", "blocking", "quote"),
        ("Création d'opportunité : impossible de créer", "blocking", "opportunity"),
        ("Cannot log in to the CRM", "blocking", "none"),
        ("The app is down", "blocking", "none"),
        ("Export PDF en erreur, aucun contournement", "major", "none"),
        ("Tri incorrect, contournement possible", "minor", "none"),
        ("Demande d'évolution : export Excel", "not_anomaly", "none"),
        ("Fonctionnalité non disponible : signature", "not_anomaly", "none"),
        ("Question sur l'import", "unclassified", "none"),
    ],
)
def test_shipped_rules_on_french_and_english_tickets(
    subject: str, severity: str, gtr_object: str
) -> None:
    decided = decide(subject)
    assert (decided["severity"], decided["gtr_object"]) == (severity, gtr_object)


def test_keywords_match_whole_words_only() -> None:
    assert decide("Download of the report is slow")["severity"] == "unclassified"


def test_freshdesk_types_question_and_feature_request_are_not_anomalies() -> None:
    assert decide("Impossible de se connecter ?", type="Question")["severity"] == "not_anomaly"
    assert decide("Nouvelle idée", type="Feature Request")["severity"] == "not_anomaly"


def test_the_accounts_own_severity_field_is_mapped() -> None:
    assert decide("Souci", custom_fields={"cf_gravite": "bloquante"})["severity"] == "blocking"
    assert decide("Souci", custom_fields={"cf_gravite": "Majeure"})["severity"] == "major"


def test_external_tools_and_custom_fields_are_flagged() -> None:
    assert decide("Synchronisation ERP Sage en échec")["external_link"] is True
    assert decide("Connecteur Shopify : commandes perdues")["external_link"] is True
    assert decide("Champ personnalisé non enregistré")["non_standard_fields"] is True
    assert decide("Facture impossible")["external_link"] is False


def test_first_matching_rule_wins_and_is_named() -> None:
    rules = {
        "severity": [
            Rule("urgent-tag", Severity.BLOCKING, tags=("urgent",)),
            Rule("anything", Severity.MINOR),
        ]
    }
    urgent = classify(TicketFacts(1, "x", tags=("URGENT",)), rules)
    assert (urgent.severity.value, urgent.severity.by, urgent.severity.source) == (
        "blocking",
        "urgent-tag",
        "rule",
    )
    assert classify(TicketFacts(2, "x"), rules).severity.by == "anything"


def test_every_condition_must_hold() -> None:
    rule = Rule("p4-email", Severity.BLOCKING, priority=(4,), source=("email",), group_id=(7,))
    rules = {"severity": [rule]}
    assert (
        classify(TicketFacts(1, priority=4, source="email", group_id=7), rules).severity.value
        == "blocking"
    )
    assert (
        classify(TicketFacts(1, priority=4, source="phone", group_id=7), rules).severity.value
        == "unclassified"
    )


def test_a_persons_latest_decision_beats_rules() -> None:
    overrides = [
        Override("severity", "major", "alice", T0, "first look"),
        Override("severity", "minor", "bob", T0.replace(hour=11), "workaround found"),
        Override("gtr_object", "invoice", "alice", T0, "invoices blocked"),
    ]
    result = classify(TicketFacts(1, "Application inaccessible"), RULES, overrides)
    assert (result.severity.value, result.severity.by, result.severity.reason) == (
        "minor",
        "bob",
        "workaround found",
    )
    assert result.gtr_object.value == "invoice" and result.gtr_object.source == "person"


def test_gtr_conditions_are_listed_with_their_clause() -> None:
    result = classify(
        TicketFacts(1, "Synchronisation ERP : impossible de créer une facture"), RULES
    )
    assert result.gtr_reasons(accepted_channel=True, excluded=False) == [
        "data linked to an external tool (C9)"
    ]
    eligible = classify(TicketFacts(1, "Impossible de créer une facture"), RULES)
    assert eligible.gtr_reasons(accepted_channel=True, excluded=False) == []
    assert eligible.gtr_reasons(accepted_channel=False, excluded=True) == [
        "not reported through an accepted channel (C2)",
        "an exclusion is recorded (C11)",
    ]


def test_severity_history_starts_with_the_rules_verdict() -> None:
    history = severity_history(
        Severity.MINOR, T0, [Override("severity", "blocking", "a", T0.replace(hour=14), "r")]
    )
    assert history == [(T0, Severity.MINOR), (T0.replace(hour=14), Severity.BLOCKING)]
    assert GtrObject("invoice") is GtrObject.INVOICE
