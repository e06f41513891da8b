"""The ticket commands of the CLI on a store filled through the simulator."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from sla_tracker.cli import cli
from sla_tracker.present.output import csv_text
from tests.conftest import ROOT
from tests.scenarios import Scenario

NOW = "2026-11-30T13:00:00+01:00"


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    scenario = Scenario(tmp_path)
    scenario.at("2026-11-30 09:00").ticket(1)  # blocking, invoice: GTR-eligible
    scenario.ticket(2, "Tri des colonnes incorrect, contournement possible")  # minor
    scenario.ticket(3, "Application inaccessible", source=3)  # phone
    scenario.poll()
    scenario.at("2026-11-30 12:00")
    scenario.poll()
    scenario.close()
    path = tmp_path / "sla-tracker.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "scenario.db"}"\n[pause]\nstatuses = [3, 6]\n',
        encoding="utf-8",
    )
    yield path


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], env={"SLA_TRACKER_NOW": NOW})
    return result.exit_code, result.output


def test_ticket_json_is_stable(config: Path) -> None:
    code, output = run(config, "ticket", "1", "--json")
    assert code == 0, output
    assert json.loads(output) == {
        "id": 1,
        "subject": "Impossible de créer une facture",
        "company_id": 1,
        "severity": "blocking",
        "severity_source": "rule:blocking-fr",
        "gtr_object": "invoice",
        "gtr_eligible": True,
        "gtr_reasons": [],
        "accepted_channel": True,
        "clocks": {
            "response": {
                "state": "breached",
                "target_seconds": 7200,
                "elapsed_seconds": 14400,
                "remaining_seconds": 0,
                "deadline": "2026-11-30T10:00:00Z",
                "breached_at": "2026-11-30T10:00:00Z",
                "stopped_at": None,
                "margin_seconds": None,
            },
            "restoration": {
                "state": "running",
                "target_seconds": 259200,
                "elapsed_seconds": 14400,
                "remaining_seconds": 244800,
                "deadline": "2026-12-10T09:00:00Z",  # Thu 10 Dec 10:00 Paris
                "breached_at": None,
                "stopped_at": None,
                "margin_seconds": None,
            },
        },
        "needs_review": [],
        "freshdesk": {"fr_due_by": "2026-11-30T09:00:00Z", "due_by": "2026-11-30T12:00:00Z"},
        "decisions": [],
    }


def test_ticket_for_people_shows_provenance_timeline_and_findings(config: Path) -> None:
    code, output = run(config, "ticket", "1")
    assert code == 0
    assert "severity: blocking (rule blocking-fr)" in output
    assert "Mon 30 Nov 09:00  — → Open  [observed: creation" in output
    assert (
        "Freshdesk fr_due_by Mon 30 Nov 10:00\n    ≠ Freshdesk's fr_due_by is 1 hr earlier than the deadline"
        in output
    )
    # due_by is Freshdesk's resolution target: shown beside the GTR, never a disagreement.
    assert "Freshdesk due_by Mon 30 Nov 13:00 (its resolution target" in output
    assert "deadline Thu 10 Dec 10:00 (in 9 days 21 hrs)" in output  # local, and how far
    assert "≠ Freshdesk due_by" not in output


def test_tickets_filters_and_formats(config: Path) -> None:
    code, output = run(config, "tickets", "--json")
    assert [item["id"] for item in json.loads(output)] == [1, 2, 3]  # breached first
    assert [
        item["id"] for item in json.loads(run(config, "tickets", "--breached", "--json")[1])
    ] == [1]
    assert [
        item["id"]
        for item in json.loads(run(config, "tickets", "--severity", "minor", "--json")[1])
    ] == [2]
    rows = list(csv.DictReader(io.StringIO(run(config, "tickets", "--csv")[1])))
    assert rows[0]["response_state"] == "breached" and rows[2]["response_state"] == "not_applicable"
    code, table = run(config, "tickets", "--open")
    assert code == 0 and "Impossible de créer une facture" in table


def test_explain_lists_every_interval_and_why(config: Path) -> None:
    code, output = run(config, "explain", "1")
    assert code == 0
    assert "Calendar fr-support (Europe/Paris); settings fingerprint" in output
    assert "+ Mon 30 Nov 09:00 → Mon 30 Nov 13:00           4 hrs  counted: opening hours" in output
    assert "= 4 hrs counted of 72 hrs" in output
    assert "[rules: docs/contract-rules.md#c8--restoration-guarantee-gtr]" in output
    anchor = "c8--restoration-guarantee-gtr"  # the anchor exists in the rules document
    headings = (ROOT / "docs" / "contract-rules.md").read_text(encoding="utf-8")
    assert "## C8 — Restoration guarantee (GTR)" in headings and anchor.startswith("c8--")


def test_as_of_an_earlier_instant(config: Path) -> None:
    code, output = run(config, "ticket", "1", "--as-of", "2026-11-30T09:30:00+01:00", "--json")
    assert json.loads(output)["clocks"]["response"]["state"] == "running"
    code, output = run(config, "ticket", "1", "--as-of", "2026-11-29T00:00:00Z")
    assert code == 1 and "no ticket 1 known as of Sun, 29 Nov 2026 01:00" in output


def test_classify_beats_the_rules_and_is_audited(config: Path) -> None:
    code, output = run(config, "classify", "2", "--severity", "blocking", "--gtr-object", "quote",
                       "--reason", "All quotes blocked", "--by", "alice")  # fmt: skip
    assert (
        code == 0 and output == "Ticket 2: recorded severity=blocking, gtr_object=quote by alice\n"
    )
    data = json.loads(run(config, "ticket", "2", "--json")[1])
    assert (data["severity"], data["severity_source"], data["gtr_eligible"]) == (
        "blocking",
        "person:alice",
        True,
    )


def test_classify_needs_a_reason_and_a_known_ticket(config: Path) -> None:
    code, output = run(config, "classify", "2", "--severity", "not_anomaly")
    assert code == 2 and "Missing option '--reason'" in output
    code, output = run(config, "classify", "999", "--severity", "major", "--reason", "x")
    assert code == 1 and output.startswith("Error: no ticket 999 in the database")


def test_exclude_and_unexclude(config: Path) -> None:
    code, output = run(
        config, "exclude", "1", "--reason", "force_majeure", "--note", "Datacenter flood"
    )
    assert code == 0
    data = json.loads(run(config, "ticket", "1", "--json")[1])
    assert data["clocks"]["restoration"]["state"] == "not_applicable"
    assert "an exclusion is recorded (C11)" in data["gtr_reasons"]
    assert run(config, "unexclude", "1", "--reason", "Our own outage")[0] == 0
    assert json.loads(run(config, "ticket", "1", "--json")[1])["gtr_eligible"] is True
    code, output = run(config, "unexclude", "1", "--reason", "again")
    assert code == 1 and "has no exclusion to lift" in output


def test_exclude_refuses_unknown_causes_and_half_intervals(config: Path) -> None:
    code, output = run(config, "exclude", "1", "--reason", "bad_weather", "--note", "x")
    assert code == 2 and "Invalid value for '--reason'" in output
    code, output = run(config, "exclude", "1", "--reason", "sabotage", "--note", "x", "--from", NOW)
    assert code == 1 and "give both --from and --to" in output


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(tmp_path: Path) -> None:
    """OWASP CSV injection: a subject from a customer must not become a formula."""
    scenario = Scenario(tmp_path)
    subjects = ['=HYPERLINK("http://evil.example","facture")', "+33 1 23 45 67 89", "-2+3",
                "@SUM(A1)", "\tcmd", "\rcmd", "Facture impossible à créer"]  # fmt: skip
    scenario.at("2026-11-30 09:00")
    for ticket_id, subject in enumerate(subjects, start=1):
        scenario.ticket(ticket_id, subject)
    scenario.poll()
    scenario.close()
    config = tmp_path / "sla-tracker.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "scenario.db"}"\n', encoding="utf-8"
    )
    code, output = run(config, "tickets", "--csv")
    rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(output, newline=""))}
    assert code == 0
    assert [rows[n]["subject"] for n in range(1, 7)] == ["'" + subject for subject in subjects[:6]]
    assert rows[7]["subject"] == "Facture impossible à créer"


def test_csv_keeps_numbers_as_numbers_and_neutralises_text() -> None:
    text = csv_text(["n", "amount", "note"], [[-5, Decimal("-12.50"), "-12.50"], [3, 1.5, "=1+1"]])
    assert text.splitlines() == ["n,amount,note", "-5,-12.50,'-12.50", "3,1.5,'=1+1"]
