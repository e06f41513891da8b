"""Every word the tracker shows people, in French and English, in one place.

Templates never compare the language: they read ``w``, the words of their document in the
language asked for, so a third language is one more entry per table here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.support import NullTranslations, Translations

LOCALES = {"fr": "fr_FR", "en": "en_GB"}
"""Each document language and the CLDR locale that formats its numbers and dates: British
English for a European support desk (day before month, 24-hour clock)."""

CATALOGS = Path(__file__).parent.parent / "locale"
"""``<lang>/LC_MESSAGES/messages.po`` and its compiled ``.mo``; the messages are English."""


@cache
def babel_locale(lang: str) -> Locale:
    """The CLDR locale of a document language (``fr``, ``en``)."""
    return Locale.parse(LOCALES[lang])


@cache
def translations(lang: str) -> NullTranslations:
    """The gettext catalog of ``lang``; English is the messages' own language."""
    return Translations.load(CATALOGS, [lang])


CLOCKS = {
    "fr": {"response": "prise en compte", "restoration": "rétablissement"},
    "en": {"response": "response", "restoration": "restoration"},
}

DOCUMENTS: dict[str, dict[str, dict[str, Any]]] = {
    "alert": {
        "fr": {
            "threshold_used": "du délai consommé",
            "target_missed": "délai dépassé",
            "indemnity_accruing": "indemnité en cours",
            "deadline": "Échéance",
        },
        "en": {
            "threshold_used": "of the target used",
            "target_missed": "target missed",
            "indemnity_accruing": "indemnity accruing",
            "deadline": "Deadline",
        },
    },
    "weekly-report": {
        "fr": {
            "subject": "Rapport SLA hebdomadaire",
            "received": "Tickets reçus par gravité",
            "response": "Prise en compte",
            "restoration": "Rétablissement (GTR 72 h)",
            "compliance": "respect",
            "of": "sur",
            "median": "médiane",
            "p90": "90e centile",
            "hours": "h ouvrées",
            "breaches": "Dépassements de la semaine",
            "at_risk": "Tickets à risque",
            "left": "restantes",
            "indemnities": "Indemnités (semaine / depuis le 1er janvier)",
            "exposure": "Exposition pour la semaine à venir",
            "disagreements": "Écarts avec Freshdesk",
            "review": "À vérifier",
            "sync": "Santé de la synchronisation",
            "runs": "passages",
            "failed": "échecs",
            "quarantined": "enregistrement(s) Freshdesk en quarantaine",
            "last": "dernier",
            "none": "aucun",
            "week": "Semaine",
            "severity": {
                "blocking": "bloquante",
                "major": "majeure",
                "minor": "mineure",
                "not_anomaly": "hors anomalie",
                "unclassified": "non classée",
            },
            "no_contract": "sans contrat",
        },
        "en": {
            "subject": "Weekly SLA report",
            "received": "Tickets received by severity",
            "response": "Response",
            "restoration": "Restoration (72 h GTR)",
            "compliance": "compliance",
            "of": "of",
            "median": "median",
            "p90": "p90",
            "hours": "business h",
            "breaches": "Breaches this week",
            "at_risk": "Tickets at risk",
            "left": "left",
            "indemnities": "Indemnities (week / year to date)",
            "exposure": "Exposure for the coming week",
            "disagreements": "Disagreements with Freshdesk",
            "review": "Needs review",
            "sync": "Sync health",
            "runs": "runs",
            "failed": "failed",
            "quarantined": "Freshdesk record(s) in quarantine",
            "last": "last",
            "none": "none",
            "week": "Week",
            "severity": {
                "blocking": "blocking",
                "major": "major",
                "minor": "minor",
                "not_anomaly": "not an anomaly",
                "unclassified": "unclassified",
            },
            "no_contract": "no contract",
        },
    },
    "statement": {
        "fr": {
            "title": "Relevé d'indemnités — Garantie de Temps de Rétablissement",
            "customer": "Client",
            "period": "Période",
            "fee": "Abonnement HT de la période",
            "basis": {"calendar": "temps calendaire", "business": "heures ouvrées"},
            "basis_label": "Base de calcul",
            "ticket": "Ticket",
            "from": "Début du dépassement",
            "to": "Rétablissement",
            "hours": "Dépassement",
            "amount": "Indemnité",
            "total": "Total de la période",
            "capped": "plafonné au montant de la période (C12)",
            "provisional": "provisoire : ticket non rétabli",
            "final": "définitif",
            "closed": "clos",
            "formula": "Calcul",
            "clause": (
                "Conditions générales, Garantie de Temps de Rétablissement : en cas de "
                "dépassement des 72 heures ouvrées, le Client peut demander une indemnité "
                "calculée au prorata temporis de son abonnement à partir de la 73e heure "
                "ouvrée et jusqu'au rétablissement (C10), dans la limite des sommes versées "
                "pour la période (C12)."
            ),
            "none": "Aucun dépassement de la garantie sur cette période.",
            "generated": "Établi le",
            "times": "Heures locales",
        },
        "en": {
            "title": "Indemnity statement — Restoration Time Guarantee",
            "customer": "Customer",
            "period": "Period",
            "fee": "Subscription fee for the period (excl. tax)",
            "basis": {"calendar": "calendar time", "business": "business hours"},
            "basis_label": "Basis",
            "ticket": "Ticket",
            "from": "Overrun from",
            "to": "Restored",
            "hours": "Overrun",
            "amount": "Indemnity",
            "total": "Period total",
            "capped": "capped at the period's fee (C12)",
            "provisional": "provisional: ticket not restored",
            "final": "final",
            "closed": "closed",
            "formula": "Formula",
            "clause": (
                "Terms of subscription, Restoration Time Guarantee: beyond 72 business hours "
                "the Customer may claim an indemnity pro rata temporis of its subscription "
                "from the 73rd business hour until restoration (C10), up to the amount paid "
                "for the period (C12)."
            ),
            "none": "No overrun of the guarantee in this period.",
            "generated": "Issued on",
            "times": "Local times",
        },
    },
}


def words(document: str, language: str) -> dict[str, Any]:
    """The words of one document (a template's name) in one language, clock names included."""
    return {"clock": CLOCKS[language], **DOCUMENTS[document][language]}
