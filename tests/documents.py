"""Sample documents for the tests that read them (catalogs, browser): the week of
``conftest.week`` judged a week later, when ticket 3 has missed its GTR, with a contract
for its customer, rendered as people receive them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sla_tracker.alerts import due_events
from sla_tracker.config import IssuerSettings
from sla_tracker.judge import evaluate_tickets
from sla_tracker.money import ContractTerms, customer_periods, record_contract
from sla_tracker.policies import indemnity_options
from sla_tracker.present.emails import render_alerts, render_weekly_report
from sla_tracker.present.money import render_statement
from sla_tracker.reports.weekly import build_weekly_report
from sla_tracker.storage.reports import team_names
from tests.scenarios import Scenario

ISSUER = IssuerSettings(
    legal_name="Éditeur Logiciel SAS",
    address=("12 rue des Lilas", "69003 Lyon"),
    siren="123 456 789 00012",
    vat_number="FR12123456789",
    contact="support@editeur.example",
)


def sample_week(tmp_path: Path) -> Scenario:
    """The blocking tickets of 2026-W48 (as ``conftest.week``) and two of 2026-W49, one
    never answered, one at risk, judged on Thu 3 Dec 15:00, before the week is over."""
    scenario = Scenario(tmp_path, freshdesk={"domain": "acme"})
    scenario.at("2026-11-23 09:00").ticket(1)
    scenario.ticket(2, "Application inaccessible <script>alert(1)</script>")
    scenario.ticket(3, "Impossible de créer un devis")
    scenario.poll()
    scenario.at("2026-11-23 09:30").event(1, "agent_reply")
    scenario.at("2026-11-23 12:00").event(2, "agent_reply")
    scenario.event(3, "agent_reply")
    scenario.at("2026-11-23 16:00").event(1, "status", 4)
    scenario.poll()
    scenario.at("2026-11-30 14:00").ticket(4, "Export comptable en erreur")  # never answered
    scenario.poll()
    scenario.at("2026-12-03 13:45").ticket(5, "Relances clients bloquées")  # 1 h 15 of 2 h used
    scenario.poll()
    scenario.at("2026-12-03 15:00")
    scenario.poll()
    terms = ContractTerms(1, Decimal("6000"), "annual", date(2026, 1, 1))
    record_contract(scenario.engine, terms, by="test", now=scenario.now)
    return scenario


def render_documents(scenario: Scenario, language: str) -> dict[str, Any]:
    """The weekly report (an e-mail), the statement (a page) and the due alerts (an e-mail)."""
    engine, settings, calendar, now = (
        scenario.engine, scenario.settings, scenario.calendar, scenario.now,
    )  # fmt: skip
    report = build_weekly_report(engine, settings, calendar, week="2026-W49", now=now)
    reports = evaluate_tickets(engine, settings, calendar, now=now)
    lines = customer_periods(engine, settings, calendar, reports, now=now)
    statement = render_statement(
        lines, company_id=1, period_text="2026", language=language, calendar=calendar,
        basis=indemnity_options(settings)[0], now=now, issuer=ISSUER,
    )  # fmt: skip
    events = [
        {**event, "id": index}
        for index, event in enumerate(due_events(reports, settings.alerts.thresholds), 1)
    ]
    alerts = render_alerts(
        events, language=language, zone=calendar.zone, now=now, freshdesk=settings.freshdesk,
        groups={5: "Support N2"}, agents=team_names(engine)[1],
    )  # fmt: skip
    return {
        "weekly-report": render_weekly_report(report, language=language, calendar=calendar),
        "statement": statement,
        "alert": alerts,
    }
