"""Kept judgments (issue 12) on a simulated account: reads from kept judgments equal the
clocks recomputed from history, at any later instant, after polls, decisions and a rule
change; ``verify`` proves it and finds a corrupted judgment."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from sla_tracker.calendar_files import load_named_calendar
from sla_tracker.cli import cli
from sla_tracker.config import Settings
from sla_tracker.core.calendar import BusinessCalendar
from sla_tracker.core.clocks import Clock
from sla_tracker.decisions import record_classification
from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
from sla_tracker.helpdesk.freshdesk.simulator.server import Simulator, make_state
from sla_tracker.judge import JudgedTicket, evaluate_tickets
from sla_tracker.judgments import Judgments, listing_order
from sla_tracker.storage.judgments import Filters
from sla_tracker.storage.schema import open_store
from sla_tracker.sync import sync_once
from tests.assertions import paris

START = paris("2026-11-23 08:00")


@dataclass
class Account:
    engine: Engine
    settings: Settings
    calendar: BusinessCalendar

    def kept(self, now: datetime, settings: Settings | None = None) -> Judgments:
        return Judgments(self.engine, settings or self.settings, self.calendar, now)

    def recomputed(self, now: datetime) -> list[JudgedTicket]:
        return evaluate_tickets(self.engine, self.settings, self.calendar, now=now)


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """400 simulated tickets polled three times a day over a week, judgments kept after each."""
    folder = tmp_path_factory.mktemp("kept")
    state = make_state(seed=7, tickets=400, now=START)
    settings = Settings.model_validate({"sync": {"start_date": "2026-05-01"}})
    engine = open_store(f"sqlite:///{folder / 'kept.db'}")
    calendar = load_named_calendar("fr-support", settings)
    with Simulator(state) as simulator:
        client = FreshdeskClient(simulator.url, "sim-key", sleep=lambda _s: None)
        for _poll in range(12):
            now = datetime.fromtimestamp(state.now, START.tzinfo)
            sync_once(client, engine, settings, now=now)
            Judgments(engine, settings, calendar, now).refresh()
            state.advance(8 * 3600)
    yield Account(engine, settings, calendar)
    engine.dispose()


def _last_poll(account: Account) -> datetime:
    with account.engine.connect() as connection:
        last = connection.execute(text("select max(judged_at) from ticket_judgment")).scalar()
    return datetime.fromisoformat(str(last)).replace(tzinfo=UTC)  # stored as naive UTC


def _plain(clock: Clock) -> Clock:
    return clock._replace(not_counted=(), counting=False)


def _same(kept: list[JudgedTicket], recomputed: list[JudgedTicket]) -> None:
    assert {r.id for r in kept} == {r.id for r in recomputed}
    mismatch = [(a.id, b.id) for a, b in zip(kept, recomputed, strict=True) if a.id != b.id]
    if mismatch:
        first = {r.id: r for r in kept}[mismatch[0][0]]
        other = {r.id: r for r in recomputed}[mismatch[0][0]]
        assert (first.response, first.restoration) == (other.response, other.restoration)
    assert [r.id for r in kept] == [r.id for r in recomputed]
    for mine, theirs in zip(kept, recomputed, strict=True):
        assert (_plain(mine.response), _plain(mine.restoration)) == (
            _plain(theirs.response),
            _plain(theirs.restoration),
        ), mine.id
        assert (mine.open, mine.status, mine.disagreements) == (
            theirs.open,
            theirs.status,
            theirs.disagreements,
        )


@pytest.mark.parametrize("hours", [0, 1, 5, 30, 80, 200])
def test_kept_judgments_answer_as_the_history_does(account: Account, hours: int) -> None:
    now = paris("2026-11-27 16:00") + timedelta(hours=hours, seconds=17)
    kept = list(account.kept(now).tickets())
    recomputed = sorted(account.recomputed(now), key=listing_order)
    assert len(kept) > 300
    _same(kept, recomputed)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(only_open=True),
        Filters(at_risk=True),
        Filters(breached=True),
        Filters(only_open=True, severity="blocking"),
        Filters(company_id=103001000000),
        Filters(urgent=True),
    ],
    ids=["open", "at-risk", "breached", "open-blocking", "company", "urgent"],
)
def test_filters_in_sql_select_what_the_clocks_say(account: Account, filters: Filters) -> None:
    now = paris("2026-11-30 11:00")
    judgments = account.kept(now)
    threshold = judgments.threshold

    def wanted(report: JudgedTicket) -> bool:
        clocks = (report.response, report.restoration)
        return (
            (not filters.only_open or report.open)
            and (filters.severity in (None, report.classification.severity.value))
            and (filters.company_id in (None, report.company_id))
            and (not filters.at_risk or any(clock.at_risk(threshold) for clock in clocks))
            and (not filters.breached or any(clock.breached for clock in clocks))
            and (
                not filters.urgent
                or (report.open and any(c.breached or c.at_risk(threshold) for c in clocks))
            )
        )

    expected = sorted((r for r in account.recomputed(now) if wanted(r)), key=listing_order)
    assert expected, "the account should have such tickets"
    _same(list(judgments.tickets(filters)), expected)
    assert judgments.count(filters) == len(expected)
    assert [r.id for r in judgments.tickets(filters, limit=3)] == [r.id for r in expected[:3]]


def test_verify_finds_no_difference_and_catches_a_corrupted_judgment(account: Account) -> None:
    now = paris("2026-12-01 10:30")
    assert account.kept(now).verify() == []
    with account.engine.begin() as connection:
        row = connection.execute(
            text("select ticket_id, body from ticket_judgment where open order by ticket_id")
        ).first()
        body = row.body if isinstance(row.body, dict) else json.loads(row.body)
        body["restoration"]["elapsed_seconds"] += 60
        body["response"]["elapsed_seconds"] += 60
        connection.execute(
            text("update ticket_judgment set body = :body where ticket_id = :id"),
            {"body": json.dumps(body), "id": row.ticket_id},
        )
    try:
        found = account.kept(now).verify()
        assert found and all(f"ticket {row.ticket_id}:" in line for line in found)
        assert account.kept(now).verify(sample=5) is not None
    finally:
        account.kept(_last_poll(account)).refresh([row.ticket_id])
    assert account.kept(now).verify() == []


def test_a_decision_forgets_the_kept_judgment_and_reads_stay_exact(account: Account) -> None:
    now = _last_poll(account) + timedelta(minutes=5)
    ticket = next(r for r in account.kept(now).tickets(Filters(only_open=True)))
    record_classification(
        account.engine, ticket.id, {"severity": "minor"}, by="lea", reason="test", now=now
    )
    assert ticket.id in account.kept(now).stale()
    later = now + timedelta(hours=3)
    [kept] = [r for r in account.kept(later).tickets() if r.id == ticket.id]
    assert kept.classification.severity.value == "minor"
    assert account.kept(later).refresh() == 1
    assert account.kept(later).verify() == []


def test_other_rules_make_every_judgment_stale(account: Account) -> None:
    now = _last_poll(account) + timedelta(hours=1)
    other = account.settings.model_copy(
        update={"alerts": account.settings.alerts.model_copy(update={"thresholds": (40, 80)})}
    )
    assert len(account.kept(now, other).stale()) > 300
    assert account.kept(now).stale() == []


# -- the commands on the kept judgments ------------------------------------------------------

CLI_NOW = "2026-11-27T15:00:00Z"


@pytest.fixture(scope="module")
def config(account: Account, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "sla-tracker.toml"
    path.write_text(f'[database]\nurl = "{account.engine.url}"\n', encoding="utf-8")
    return path


def cli_run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"SLA_TRACKER_NOW": CLI_NOW, "COLUMNS": "80"}
    )
    return result.exit_code, result.output


def test_tickets_json_and_csv_stream_every_match_most_urgent_first(
    account: Account, config: Path
) -> None:
    now = datetime.fromisoformat(CLI_NOW)
    expected = [r.id for r in account.kept(now).tickets(Filters(only_open=True))]
    code, output = cli_run(config, "tickets", "--open", "--json")
    assert code == 0, output
    assert [item["id"] for item in json.loads(output)] == expected
    code, output = cli_run(config, "tickets", "--open", "--csv")
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0][0] == "id" and [int(row[0]) for row in rows[1:]] == expected
    code, output = cli_run(config, "tickets", "--severity", "blocking", "--breached", "--json")
    assert code == 0 and output.startswith("[")  # "[]" when nothing matches is still JSON
    json.loads(output)


def test_the_table_shows_the_limit_and_says_how_many_more(account: Account, config: Path) -> None:
    total = account.kept(datetime.fromisoformat(CLI_NOW)).count()
    assert total > 300
    code, output = cli_run(config, "tickets", "--limit", "3")
    assert code == 0, output
    assert f"3 of {total} ticket(s)" in output
    assert f"… and {total - 3} more: --limit 0 shows them all" in output


def test_sort_orders_the_listing(config: Path) -> None:
    code, output = cli_run(config, "tickets", "--sort", "id", "--json")
    ids = [item["id"] for item in json.loads(output)]
    assert code == 0 and ids == sorted(ids)


def test_an_unknown_group_is_an_error_naming_the_known_ones(config: Path) -> None:
    code, output = cli_run(config, "tickets", "--group", "Nobody")
    assert code == 2 and "no single group named 'Nobody'" in output


def test_verify_and_refresh_commands(account: Account, config: Path) -> None:
    code, output = cli_run(config, "verify", "--sample", "50")
    assert code == 0 and "OK: a sample of 50 ticket(s) agree with their history" in output, output
    code, output = cli_run(config, "refresh")
    assert code == 0 and "ticket(s) judged and kept" in output
    with account.engine.begin() as connection:
        connection.execute(
            text(
                "update ticket_judgment set valid_until = null, body = replace(body,"
                " '\"elapsed_seconds\": 0', '\"elapsed_seconds\": 9')"
            )
        )
    code, output = cli_run(config, "verify")
    assert code == 1 and "difference(s) between kept judgments and history" in output
    with account.engine.begin() as connection:
        connection.execute(text("delete from ticket_judgment"))
    code, output = cli_run(config, "refresh")
    assert code == 0, output
    assert cli_run(config, "verify")[0] == 0


def test_stale_tickets_are_found_by_index_once_every_judgment_has_the_settings(
    account: Account,
) -> None:
    from sla_tracker.storage.judgments import forget_judgments, keep_judgments, stale_ids

    now = _last_poll(account) + timedelta(minutes=1)
    judgments = account.kept(now)
    judgments.refresh()
    with account.engine.connect() as connection:
        stale = stale_ids(connection, judgments.fingerprint, now)
    assert not stale.full and stale.ids == []
    ids = [r.id for r in judgments.tickets(limit=2)]
    with account.engine.begin() as connection:
        forget_judgments(connection, ids[:1])
    with account.engine.connect() as connection:
        seen = stale_ids(connection, judgments.fingerprint, now)
    assert seen.ids == ids[:1] and not seen.full
    # A writer changes the ticket again while a refresh is judging it: its later mark stays.
    [report] = evaluate_tickets(account.engine, account.settings, account.calendar, now=now,
                                ticket_ids=ids[:1])  # fmt: skip
    with account.engine.begin() as connection:
        forget_judgments(connection, ids[:1])
    keep_judgments(account.engine, [judgments._row(report)], last_mark=seen.last_mark)
    assert judgments.stale() == ids[:1]
    assert judgments.refresh() == 1 and judgments.stale() == []


def test_a_read_with_many_stale_judgments_says_it_answers_from_history(
    account: Account, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After a change of settings every judgment is stale: the answer is still exact (judged
    from history) and the read says so, with how many tickets wait for a refresh."""
    import sla_tracker.judgments

    monkeypatch.setattr(sla_tracker.judgments, "STALE_NOTICE", 50)
    now = _last_poll(account) + timedelta(hours=2)
    other = account.settings.model_copy(
        update={"alerts": account.settings.alerts.model_copy(update={"thresholds": (40, 80)})}
    )
    judgments = account.kept(now, other)
    stale = len(judgments.stale())
    with caplog.at_level("WARNING", logger="sla_tracker.judgments"):
        found = [r.id for r in judgments.tickets(Filters(only_open=True))]
    assert f"refreshing {stale} tickets" in caplog.text
    expected = evaluate_tickets(account.engine, other, account.calendar, now=now)
    assert found == [r.id for r in sorted(expected, key=listing_order) if r.open]


def test_the_statistics_are_renewed_after_a_large_refresh(store_url: str) -> None:
    """After a backfill the planner must know the kept judgments (PostgreSQL scanned a million
    rows for a listing of a few until autovacuum ran): ANALYZE runs on both databases."""
    from sla_tracker.storage.judgments import analyze_judgments

    engine = open_store(store_url)
    try:
        analyze_judgments(engine)
    finally:
        engine.dispose()
