"""Contracts, indemnities, period close and statements through the CLI, on a store filled
through the simulator with one GTR breach."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sla_tracker.cli import cli
from tests.scenarios import Scenario

NOW = "2026-11-30T12:00:00+01:00"


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """The store; ``indirect`` parametrization names the company differently."""
    scenario = Scenario(tmp_path)
    scenario.state.dataset.companies[0].name = getattr(
        request, "param", 'Boulangerie <script>alert("x")</script>'
    )
    scenario.at("2026-11-02 09:00").ticket(1)  # GTR: 72 h end Fri 13 Nov 10:00 (11 Nov closed)
    scenario.poll()
    scenario.at("2026-11-16 10:00").event(1, "status", 4)  # restored three days late
    scenario.poll()
    scenario.close()
    path = tmp_path / "sla-tracker.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "scenario.db"}"\n', encoding="utf-8")
    yield path


def run(config: Path, *args: str, now: str = NOW) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], env={"SLA_TRACKER_NOW": now})
    return result.exit_code, result.output


def test_a_customer_without_a_contract_is_no_contract_not_zero(config: Path) -> None:
    [line] = json.loads(run(config, "indemnities", "--json")[1])
    assert (line["status"], line["amount"], line["company_id"]) == ("no contract", None, 1)


def test_indemnity_json(config: Path) -> None:
    assert run(config, "contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01")[0] == 0
    [line] = json.loads(run(config, "indemnities", "--json")[1])
    # Overrun: Fri 13 Nov 10:00 → Mon 16 Nov 10:00 Paris = 259,200 s of a 365-day year.
    assert line == {
        "company_id": 1,
        "company_name": 'Boulangerie <script>alert("x")</script>',
        "period_start": "2025-12-31T23:00:00Z",
        "period_end": "2026-12-31T23:00:00Z",
        "currency": "EUR",
        "fee": "6000.00",
        "amount": "49.32",
        "capped": False,
        "status": "final",
        "breach_seconds": 259200,
        "tickets": [
            {
                "id": 1,
                "breach_start": "2026-11-13T09:00:00Z",
                "breach_end": "2026-11-16T09:00:00Z",
                "share": "49.3151",
            }
        ],
        "adjustments": [],
    }


def test_fee_changes_take_effect_at_a_renewal_only(config: Path) -> None:
    run(config, "contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01")
    code, output = run(
        config,
        "contracts",
        "set",
        "1",
        "--fee",
        "6600",
        "--start",
        "2026-01-01",
        "--effective",
        "2026-06-01",
    )
    assert code == 1 and "a fee change takes effect at a renewal" in output
    assert (
        run(
            config,
            "contracts",
            "set",
            "1",
            "--fee",
            "6600",
            "--start",
            "2026-01-01",
            "--effective",
            "2027-01-01",
        )[0]
        == 0
    )
    [contract] = json.loads(run(config, "contracts", "list", "--json")[1])
    assert contract["fees"] == [
        {"effective": "2026-01-01", "fee": "6000.00"},
        {"effective": "2027-01-01", "fee": "6600.00"},
    ]


def test_import_is_all_or_nothing_and_names_the_bad_line(config: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "contracts.csv"
    csv_file.write_text(
        "company_id,fee,period,start\n1,6000,annual,2026-01-01\n2,lots,annual,2026-01-01\n",
        encoding="utf-8",
    )
    code, output = run(config, "contracts", "import", str(csv_file))
    assert (
        code == 1
        and "contracts.csv, line 3: fee 'lots' is not an amount" in output
        and "nothing was imported" in output
    )
    assert json.loads(run(config, "contracts", "list", "--json")[1]) == []
    csv_file.write_text("company_id,fee,period,start\n1,6000,annual,2026-01-01\n", encoding="utf-8")
    assert run(config, "contracts", "import", str(csv_file)) == (
        0,
        f"Imported 1 contract version(s) from {csv_file}\n",
    )


def test_a_closed_period_keeps_its_amount_and_later_changes_become_adjustments(
    config: Path,
) -> None:
    run(config, "contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01")
    code, output = run(config, "period", "close", "--all", "2026", now="2027-01-05T10:00:00+01:00")
    assert code == 0 and "Closed 1 2026-01-01/2027-01-01: 49.32" in output
    # A late exclusion of part of the overrun changes the recomputed amount…
    run(config, "exclude", "1", "--reason", "network_failure", "--note", "VPN down",
        "--from", "2026-11-13T10:00:00+01:00", "--to", "2026-11-14T10:00:00+01:00",
        now="2027-01-06T10:00:00+01:00")  # fmt: skip
    [line] = json.loads(run(config, "indemnities", "--json", now="2027-01-06T11:00:00+01:00")[1])
    # …but the closed period keeps its frozen amount, and the difference is shown as such.
    # With Fri 13 Nov 10:00 → Sat 10:00 excluded, the 72 h are first exceeded at the next
    # counted business second, Mon 16 Nov 09:00 (strict breach): one hour is owed.
    assert (line["status"], line["amount"]) == ("closed", "49.32")
    assert line["adjustments"] == [{"from_period": "2026-01-01/2027-01-01", "amount": "-48.64",
                                    "reason": "recomputed 0.68 after it was closed at 49.32"}]  # fmt: skip


def test_close_needs_a_company_or_all(config: Path) -> None:
    code, output = run(config, "period", "close", "2026")
    assert code == 2 and "give a COMPANY_ID or --all, then the PERIOD" in output


def test_statement_is_html_with_the_clause_and_escaped_names(config: Path, tmp_path: Path) -> None:
    run(config, "contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01")
    out = tmp_path / "releve.html"
    assert run(config, "statement", "1", "--period", "2026", "--out", str(out))[0] == 0
    html = out.read_text(encoding="utf-8")
    assert "Relevé d’indemnités" in html and "49,32\xa0€" in html
    assert "à partir de la 73 h ouvrées et jusqu’au rétablissement" in html  # C10, verbatim
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "ven. 13 nov. 2026 10:00" in html  # overrun start in Paris time, with its weekday
    run(config, "statement", "1", "--period", "2026", "--lang", "en", "--out", str(out))
    assert "Indemnity statement" in out.read_text(encoding="utf-8")


def test_exposure_lists_unrestored_gtr_tickets(config: Path) -> None:
    code, output = run(config, "exposure", "--json")
    assert code == 0 and json.loads(output) == []  # the only GTR ticket is restored


@pytest.mark.parametrize("config", ['=HYPERLINK("http://evil.example","Martin")'], indirect=True)
def test_indemnities_csv_neutralises_text_a_spreadsheet_would_run(config: Path) -> None:
    run(config, "contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01")
    [row] = csv.DictReader(io.StringIO(run(config, "indemnities", "--csv")[1]))
    assert (row["company_name"], row["amount"]) == (
        '\'=HYPERLINK("http://evil.example","Martin")',
        "49.32",
    )


@pytest.mark.parametrize("currency", ["", "=cmd", "eur", "E1R", "EURO"])
def test_a_currency_is_an_iso_code(config: Path, currency: str) -> None:
    code, output = run(config, "contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01",
                       "--currency", currency)  # fmt: skip
    assert code == 1 and f"currency {currency!r} is not an ISO 4217 code" in output


def test_a_contract_terminated_before_it_starts_is_refused(config: Path) -> None:
    code, output = run(config, "contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01",
                       "--terminated", "2025-12-31")  # fmt: skip
    assert code == 1 and "terminated 2025-12-31 is not after start 2026-01-01" in output
