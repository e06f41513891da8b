"""What a person reads in the CLI (issue 13): status names, the audit trail, tables that fit
80 columns with nothing that matters cut, and clear answers for unknown names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sla_tracker.cli import cli
from sla_tracker.present.tickets import status_label
from tests.scenarios import Scenario

NOW = "2026-11-30T13:00:00+01:00"
LATER = "2026-11-30T13:10:00+01:00"
WAITING = 7  # the simulator's custom status "Waiting on Third Party"


def run(config: Path, *args: str, now: str = LATER) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"SLA_TRACKER_NOW": now, "COLUMNS": "80"}
    )
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Three tickets (one now in a custom status), a contract, and decisions taken, replaced
    and lifted by four people."""
    tmp_path = tmp_path_factory.mktemp("views")
    scenario = Scenario(tmp_path)
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.ticket(2, "Tri des colonnes incorrect, contournement possible " * 3)
    scenario.ticket(3, "Application inaccessible", source=3)
    scenario.poll()
    scenario.at("2026-11-30 12:00").event(2, "status", WAITING)
    scenario.poll()
    scenario.close()
    path = tmp_path / "sla-tracker.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "scenario.db"}"\n[pause]\nstatuses = [3, 6]\n',
        encoding="utf-8",
    )
    steps = [
        ("contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01", "--by", "erin"),
        ("classify", "1", "--severity", "major", "--reason", "A workaround", "--by", "alice"),
        ("classify", "1", "--severity", "blocking", "--reason", "No workaround", "--by", "bob"),
        ("exclude", "1", "--reason", "network_failure", "--note", "VPN down", "--by", "carol",
         "--from", "2026-11-30T09:00:00+01:00", "--to", "2026-11-30T10:00:00+01:00"),
        ("unexclude", "1", "--reason", "Our own outage", "--by", "dave"),
    ]  # fmt: skip
    for minute, step in enumerate(steps):
        code, output = run(path, *step, now=f"2026-11-30T13:0{minute}:00+01:00")
        assert code == 0, output
    yield path


def test_statuses_are_named_custom_ones_included(config: Path) -> None:
    code, output = run(config, "ticket", "2")
    assert code == 0, output
    assert "  status: Waiting on Third Party" in output
    assert "Open → Waiting on Third Party  [observed" in output
    assert "Waiting on Third Party" in run(config, "explain", "2")[1]
    assert status_label(9, {}) == "status 9" and status_label(2, {}) == "Open"


def test_ticket_shows_every_decision_with_the_superseded_marked(config: Path) -> None:
    output = run(config, "ticket", "1")[1]
    trail = output.split("Decisions (oldest first):\n")[1].split("Timeline:")[0].splitlines()
    assert trail == [
        "  Mon 30 Nov 13:01  alice classified severity = major: A workaround [superseded]",
        "  Mon 30 Nov 13:02  bob classified severity = blocking: No workaround",
        "  Mon 30 Nov 13:03  carol excluded (network_failure, Mon 30 Nov 09:00 → Mon 30 Nov "
        "10:00): VPN down [superseded]",
        "  Mon 30 Nov 13:04  dave lifted the exclusions: Our own outage",
    ]
    assert "Decisions (oldest first):" in run(config, "explain", "1")[1]
    # --as-of shows the trail as it stood then.
    early = run(config, "ticket", "1", "--as-of", "2026-11-30T13:01:30+01:00")[1]
    assert "alice classified severity = major: A workaround\n" in early and "bob" not in early


def test_ticket_json_lists_the_decisions_in_utc(config: Path) -> None:
    decisions = json.loads(run(config, "ticket", "1", "--json")[1])["decisions"]
    assert [(d["kind"], d["by"], d["superseded"]) for d in decisions] == [
        ("classification", "alice", True),
        ("classification", "bob", False),
        ("exclusion", "carol", True),
        ("revocation", "dave", False),
    ]
    assert decisions[2] == {
        "kind": "exclusion", "dimension": None, "value": None, "reason": "network_failure",
        "note": "VPN down", "from": "2026-11-30T08:00:00Z", "to": "2026-11-30T09:00:00Z",
        "by": "carol", "at": "2026-11-30T12:03:00Z", "superseded": True,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (("tickets",), ["1", "2", "3", "breached", "Waiting on"]),
        (("contracts", "list"), ["1", "Boulangerie", "€6,000.00", "applies", "2026-01-01"]),
        (("exposure",), ["€", "Thu 10 Dec 10:00", "1 ticket(s)"]),
        (("calendar", "show", "2026-05"), ["Fête de la Victoire", "8 h"]),
        (("indemnities", "--as-of", "2026-12-14T10:00:00+01:00"), ["1", "provisional", "€65.75"]),
    ],
)
def test_tables_fit_80_columns_and_keep_what_matters(
    config: Path, args: tuple[str, ...], kept: list[str]
) -> None:
    code, output = run(config, *args)
    assert code == 0, output
    assert max(len(line) for line in output.splitlines()) <= 80, output
    for text in kept:
        assert re.search(rf"(^|\s){re.escape(text)}", output), (text, output)


def test_unknown_names_are_errors_not_empty_tables(config: Path) -> None:
    code, output = run(config, "indemnities", "--company", "77")
    assert code == 1 and "no company 77 in the database; known: Boulangerie Martin SARL" in output
    code, output = run(config, "statement", "77", "--period", "2026", "--out", "/dev/null")
    assert code == 1 and "no company 77" in output
    code, output = run(config, "ticket", "999")
    assert code == 1 and "no ticket 999 known" in output


def test_a_period_not_over_is_closed_only_with_force(config: Path) -> None:
    code, output = run(config, "period", "close", "--all", "2026")
    assert code == 1
    assert "2026 ends Fri, 1 Jan 2027 00:00, after now" in output and "--force" in output


def test_contracts_set_says_it_adds_a_version(config: Path) -> None:
    code, output = run(config, "contracts", "set", "1", "--fee", "6600", "--start", "2026-01-01",
                       "--effective", "2027-01-01", "--by", "erin")  # fmt: skip
    assert code == 0 and "a new version of the contract started 2026-01-01" in output
    code, output = run(config, "contracts", "set", "1", "--fee", "6500", "--start", "2026-01-01",
                       "--effective", "2027-01-01", "--by", "erin")  # fmt: skip
    assert "replaces the fee 6600.00 recorded for that date" in output
    table = run(config, "contracts", "list")[1]
    assert re.search(r"2027-01-01\s+€6,600.00\s+superseded", table)
    assert re.search(r"2027-01-01\s+€6,500.00\s+scheduled", table)
    assert re.search(r"2026-01-01\s+€6,000.00\s+applies", table)


def test_status_as_json_with_utc_instants(config: Path) -> None:
    code, output = run(config, "status", "--json")
    assert code == 0, output
    state = json.loads(output)
    assert set(state) == {"last_sync", "next", "weekly_report", "quarantined", "active_instance"}
    assert state["last_sync"]["started_at"] == "2026-11-30T11:00:00Z"
    assert state["weekly_report"] == {"state": "not_mailed"}
    assert all(at.endswith("Z") for at in state["next"].values() if at)
    text = run(config, "status")[1]
    assert "Last sync: Mon, 30 Nov 2026 12:00 (1 hr 10 mins ago)" in text


def test_statement_as_pdf(config: Path, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    out = tmp_path / "releve.pdf"
    code, output = run(config, "statement", "1", "--period", "2026", "--pdf", "--out", str(out))
    assert code == 0, output
    assert out.read_bytes().startswith(b"%PDF-")
