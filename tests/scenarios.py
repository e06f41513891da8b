"""Hand-built Freshdesk accounts for the tests: tickets and events at chosen instants on the
bundled simulator, polled and judged as the CLI and the service do. Shared by the test
modules (never imported from another test file); the fixtures built on it are in conftest.py.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from sla_tracker.alerts import due_events, record_events
from sla_tracker.calendar_files import load_named_calendar
from sla_tracker.config import Settings
from sla_tracker.delivery.alerts import send_pending
from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
from sla_tracker.helpdesk.freshdesk.simulator.dataset import Dataset, SimCompany, SimTicket
from sla_tracker.helpdesk.freshdesk.simulator.server import Simulator, SimulatorState
from sla_tracker.judge import JudgedTicket, evaluate_tickets
from sla_tracker.storage.schema import open_store
from sla_tracker.storage.tables import METADATA
from sla_tracker.sync import sync_once
from tests.assertions import PARIS, paris

HOUR = 3600

INVOICE_BLOCKED = "Impossible de créer une facture"


class Scenario:
    """A hand-built Freshdesk account: tickets and events at chosen instants, polled at will."""

    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        company = SimCompany(1, "Boulangerie Martin SARL", "martin.example", 0, 0, "annual", 6000)
        self.state = SimulatorState(
            Dataset([company], {}), int(paris("2026-01-01 00:00").timestamp())
        )
        self.simulator = Simulator(self.state).__enter__()
        self.client = FreshdeskClient(self.simulator.url, "sim-key", sleep=lambda _s: None)
        self.engine = open_store(f"sqlite:///{tmp_path / 'scenario.db'}")
        self.settings = Settings.model_validate(
            {"sync": {"start_date": "2026-01-01"}, "pause": {"statuses": [3, 6]}, **settings}
        )
        self.calendar = load_named_calendar("fr-support", self.settings)

    def at(self, text: str) -> Scenario:
        self.state.now = int(paris(text).timestamp())
        self.state.version += 1
        return self

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.state.now, PARIS)

    def ticket(self, ticket_id: int, subject: str = INVOICE_BLOCKED, *, source: int = 1) -> None:
        self.state.dataset.tickets[ticket_id] = SimTicket(
            ticket_id, 1, 99, subject, subject, 4, source, "Incident", [], {}, 5, self.state.now
        )
        self.state.version += 1

    def event(self, ticket_id: int, kind: str, value: int = 0) -> None:
        self.state.change(ticket_id, kind, value)

    def poll(self) -> None:
        sync_once(self.client, self.engine, self.settings, now=self.now)

    def keep_verdicts(self) -> None:
        """Evaluate as the service does after a poll: the rules' verdicts are kept."""
        evaluate_tickets(
            self.engine, self.settings, self.calendar, now=self.now, keep_verdicts=True
        )

    def judge(self, ticket_id: int, at: str | None = None) -> JudgedTicket:
        now = paris(at) if at else self.now
        [report] = evaluate_tickets(
            self.engine,
            self.settings,
            self.calendar,
            now=now,
            ticket_ids=[ticket_id],
            with_transitions=True,
        )
        return report

    def close(self) -> None:
        self.simulator.__exit__(None, None, None)


def with_smtp(scenario: Scenario, port: int, **alerts: Any) -> None:
    scenario.settings = scenario.settings.model_validate(
        {
            **scenario.settings.model_dump(),
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "recipients": ["lead@koban.example"],
            },
            "alerts": {"thresholds": [50, 80], **alerts},
        }
    )


def alert_once(scenario: Scenario) -> tuple[int, int, int]:
    reports = evaluate_tickets(
        scenario.engine, scenario.settings, scenario.calendar, now=scenario.now
    )
    new = record_events(
        scenario.engine, due_events(reports, scenario.settings.alerts.thresholds), now=scenario.now
    )
    sent, failed = send_pending(scenario.engine, scenario.settings, now=scenario.now)
    return new, sent, failed


def empty_store(engine: Engine) -> None:
    """Delete every row of every table: one store reused across hypothesis examples."""
    with engine.begin() as connection:
        for table in reversed(METADATA.sorted_tables):
            connection.execute(table.delete())
