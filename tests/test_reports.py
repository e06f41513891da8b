"""The weekly report: numbers against a hand-built week, and real SMTP on loopback."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sla_tracker.cli import cli
from sla_tracker.present.emails import render_weekly_report
from sla_tracker.reports.weekly import build_weekly_report
from sla_tracker.storage.schema import open_store
from tests.conftest import ROOT
from tests.scenarios import Scenario


def test_report_numbers_match_the_hand_built_week(week: Scenario) -> None:
    report = build_weekly_report(
        week.engine, week.settings, week.calendar, week="2026-W48", now=week.now
    )
    assert report.received["blocking"] == 3
    [blocking, major] = report.response
    # Response: 1 answered after 0.5 h, 2 and 3 after 3 h (target 2 h): 1 of 3 met.
    assert (blocking.met, blocking.judged, blocking.percent) == (1, 3, 33.3)
    assert (blocking.median_hours, blocking.p90_hours) == (3.0, 3.0)
    assert major.judged == 0
    # GTR: only 1 and 3 block a record (an invoice, a quote). 1 was restored in 7 business
    # hours; 3 has used 56 of its 72 hours by Tue 1 Dec 12:00: running, at risk, not judged.
    assert (report.restoration.met, report.restoration.judged) == (1, 1)
    assert {(t["id"], t["clock"], t["remaining_hours"]) for t in report.at_risk} == {
        (3, "restoration", 16.0)
    }
    assert {b["id"] for b in report.breaches if b["clock"] == "response"} == {2, 3}


def test_report_is_mailed_as_text_and_escaped_html_once(
    week: Scenario, smtp: tuple[Any, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    config = tmp_path / "report.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "scenario.db"}"\n[pause]\nstatuses = [3, 6]\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'sender = "sla@koban.example"\nrecipients = ["support-lead@koban.example", "cto@koban.example"]\n',
        encoding="utf-8",
    )
    env = {"SLA_TRACKER_NOW": "2026-12-01T12:00:00+01:00"}
    result = CliRunner().invoke(
        cli, ["--config", str(config), "report", "weekly", "--week", "2026-W48", "--send"], env=env
    )
    assert result.exit_code == 0, result.output
    [(recipients, message)] = inbox.messages
    assert recipients == ["support-lead@koban.example", "cto@koban.example"]
    assert message["Subject"].startswith("Rapport SLA hebdomadaire — 2026-W48")
    assert message.is_multipart() and [
        part.get_content_type() for part in message.get_payload()
    ] == ["text/plain", "text/html"]
    html = message.get_payload()[1].get_payload(decode=True).decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    again = CliRunner().invoke(
        cli, ["--config", str(config), "report", "weekly", "--week", "2026-W48", "--send"], env=env
    )
    assert again.exit_code == 1 and "already sent" in again.output and len(inbox.messages) == 1
    forced = CliRunner().invoke(
        cli,
        ["--config", str(config), "report", "weekly", "--week", "2026-W48", "--send", "--force"],
        env=env,
    )
    assert forced.exit_code == 0 and len(inbox.messages) == 2


def test_an_smtp_outage_is_a_clear_error(week: Scenario, tmp_path: Path) -> None:
    config = tmp_path / "down.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "scenario.db"}"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = 1\nsecurity = "none"\nrecipients = ["a@b.example"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--config", str(config), "report", "weekly", "--week", "2026-W48", "--send"]
    )
    assert result.exit_code == 1 and result.output.startswith(
        "Error: cannot send through SMTP server 127.0.0.1:1"
    )


def test_english_rendering(week: Scenario) -> None:
    report = build_weekly_report(
        week.engine, week.settings, week.calendar, week="2026-W48", now=week.now
    )
    rendered = render_weekly_report(report, language="en", calendar=week.calendar)
    assert rendered.subject.startswith("Weekly SLA report — 2026-W48")
    assert "Response" in rendered.text and "business h" in rendered.text


def test_the_week_is_judged_the_same_on_both_databases(tmp_path: Path, store_url: str) -> None:
    """The relevance filter uses date arithmetic in SQL, which each database spells its way."""
    scenario = Scenario(tmp_path)
    try:
        scenario.engine = open_store(store_url)
        scenario.at("2026-10-26 09:00").ticket(1)  # restored after 3 weeks: a GTR overrun this year
        scenario.at("2026-11-23 09:00").ticket(2, "Tri incorrect, contournement possible")
        scenario.poll()
        scenario.at("2026-11-16 09:00")
        scenario.state.change(1, "status", 4)
        scenario.at("2026-12-01 12:00")
        scenario.poll()
        report = build_weekly_report(
            scenario.engine, scenario.settings, scenario.calendar, week="2026-W48", now=scenario.now
        )
        assert report.received == {
            "blocking": 0,
            "major": 0,
            "minor": 1,
            "not_anomaly": 0,
            "unclassified": 0,
        }
        assert [line["company_id"] for line in report.indemnities] == [1]  # ticket 1 was kept
    finally:
        scenario.close()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_weekly_report_text_matches_its_golden_file(
    week: Scenario, language: str, update_snapshots: bool
) -> None:
    """The text part a manager reads, whole: any change in it shows up as a reviewable diff
    (regenerate with ``pytest --update-snapshots``)."""
    report = build_weekly_report(
        week.engine, week.settings, week.calendar, week="2026-W48", now=week.now
    )
    text = render_weekly_report(report, language=language, calendar=week.calendar).text
    golden = ROOT / "tests" / "snapshots" / f"weekly-report-2026-W48.{language}.txt"
    if update_snapshots:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_long_lists_are_capped_most_urgent_first_with_the_command_for_all(week: Scenario) -> None:
    report = build_weekly_report(
        week.engine, week.settings, week.calendar, week="2026-W48", now=week.now
    )
    [breach, *_] = report.breaches
    report.breaches = [{**breach, "id": n} for n in range(1, 16)]
    text = render_weekly_report(report, language="fr", calendar=week.calendar).text
    listed = re.findall(r"^  #(\d+) prise en compte", text, flags=re.MULTILINE)
    assert listed == [str(n) for n in range(1, 11)]
    assert "… et 5 autres (tous\xa0: sla-tracker tickets --breached)" in text
    english = render_weekly_report(report, language="en", calendar=week.calendar).text
    assert "… and 5 more (all of them: sla-tracker tickets --breached)" in english


def test_the_trend_groups_and_agents_and_the_unfinished_week(week: Scenario) -> None:
    report = build_weekly_report(
        week.engine, week.settings, week.calendar, week="2026-W48", now=week.now
    )
    assert [t.week for t in report.trend] == [f"2026-W{n}" for n in range(41, 49)]
    assert (report.trend[-1].blocking.met, report.trend[-1].blocking.judged) == (1, 3)
    assert [(g.received, g.breaches) for g in report.groups] == [(3, 2)]
    assert report.complete
    ongoing = build_weekly_report(
        week.engine, week.settings, week.calendar, week="2026-W49", now=week.now
    )
    assert not ongoing.complete
    text = render_weekly_report(ongoing, language="fr", calendar=week.calendar).text
    assert "La semaine n’est pas terminée\xa0: chiffres au mar. 1 déc. 12:00" in text
