"""Clocks end to end: scenarios played on the simulator over several polls, then judged
from the store exactly as the CLI does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sla_tracker.core.clocks import ClockState
from sla_tracker.decisions import record_classification, record_exclusion
from sla_tracker.judge import evaluate_tickets
from sla_tracker.storage.schema import open_store
from sla_tracker.storage.tables import Ticket, TicketChange, table_of
from sla_tracker.sync import sync_once
from tests.assertions import assert_deadline
from tests.scenarios import HOUR, INVOICE_BLOCKED, Scenario, paris


def test_a_pending_period_pauses_the_gtr_clock(scenario: Scenario) -> None:
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.poll()
    scenario.at("2026-11-30 10:00").event(1, "agent_reply")
    scenario.event(1, "status", 3)
    scenario.poll()
    scenario.at("2026-11-30 15:00").event(1, "status", 2)
    scenario.poll()
    report = scenario.judge(1, "2026-11-30 16:00")
    assert report.response.state is ClockState.MET
    assert report.restoration.state is ClockState.RUNNING
    assert report.restoration.elapsed_seconds == 2 * HOUR  # 09–10 and 15–16
    assert any("paused: status 3" in why for _, why in report.restoration.not_counted)


def test_a_customer_reply_ends_the_pause(scenario: Scenario) -> None:
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.poll()
    scenario.at("2026-11-30 10:00").event(1, "status", 6)  # Waiting on Customer
    scenario.poll()
    scenario.at("2026-11-30 12:00").event(1, "customer_reply")
    scenario.poll()
    report = scenario.judge(1, "2026-11-30 13:00")
    assert report.restoration.state is ClockState.RUNNING
    assert report.restoration.elapsed_seconds == 2 * HOUR  # 09–10 and 12–13


@pytest.mark.parametrize(("policy", "elapsed_hours"), [("continuous", 4), ("paused", 2)])
def test_a_reopened_ticket_was_not_restored(
    tmp_path: Path, policy: str, elapsed_hours: int
) -> None:
    scenario = Scenario(tmp_path, restoration={"reopen": policy})
    try:
        scenario.at("2026-11-30 09:00").ticket(1)
        scenario.poll()
        scenario.at("2026-11-30 10:00").event(1, "status", 4)
        scenario.poll()
        scenario.at("2026-11-30 12:00").event(1, "status", 2)
        scenario.poll()
        report = scenario.judge(1, "2026-11-30 13:00")
        assert report.restoration.state is ClockState.RUNNING
        assert report.restoration.elapsed_seconds == elapsed_hours * HOUR
    finally:
        scenario.close()


@pytest.mark.parametrize(
    ("policy", "state"), [("retroactive", ClockState.BREACHED), ("from_change", ClockState.RUNNING)]
)
def test_a_severity_upgrade_under_both_policies(
    tmp_path: Path, policy: str, state: ClockState
) -> None:
    scenario = Scenario(tmp_path, sla={"severity_change": policy})
    try:
        scenario.at("2026-11-30 09:00").ticket(
            1, "Tri des colonnes incorrect, contournement possible"
        )
        scenario.poll()
        assert scenario.judge(1).classification.severity.value == "minor"
        scenario.at("2026-11-30 14:00")
        record_classification(scenario.engine, 1, {"severity": "blocking"}, by="alice",
                              reason="all users blocked", now=scenario.now)  # fmt: skip
        report = scenario.judge(1, "2026-11-30 14:30")
        assert report.classification.severity.source == "person"
        assert report.response.state is state
    finally:
        scenario.close()


def test_created_at_night_and_on_a_holiday(scenario: Scenario) -> None:
    scenario.at("2026-12-24 23:30").ticket(1)
    scenario.at("2026-12-25 10:00").ticket(2)
    scenario.poll()
    for ticket_id in (1, 2):
        report = scenario.judge(ticket_id, "2026-12-25 12:00")
        assert report.response.elapsed_seconds == 0
        assert_deadline(report.response, "2026-12-28 11:00")


def test_an_excluded_interval_is_not_counted(scenario: Scenario) -> None:
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.poll()
    record_exclusion(
        scenario.engine,
        1,
        reason="network_failure",
        note="customer VPN down",
        by="alice",
        now=scenario.now,
        starts_at=paris("2026-11-30 10:00"),
        ends_at=paris("2026-11-30 12:00"),
    )
    report = scenario.judge(1, "2026-11-30 13:00")
    assert report.restoration.elapsed_seconds == 2 * HOUR
    assert report.restoration.state is ClockState.RUNNING


def test_a_phone_ticket_carries_no_clock(scenario: Scenario) -> None:
    scenario.at("2026-11-30 09:00").ticket(1, source=3)
    scenario.poll()
    report = scenario.judge(1, "2026-11-30 18:00")
    assert not report.accepted_channel
    assert report.response.state is ClockState.NOT_APPLICABLE
    assert "accepted channel (C2)" in (report.response.reason or "")


def test_a_ticket_before_enforce_from_is_not_judged(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path, sla={"enforce_from": "2026-12-01T00:00:00+01:00"})
    try:
        scenario.at("2026-11-30 09:00").ticket(1)
        scenario.poll()
        assert scenario.judge(1).response.reason == "created before sla.enforce_from"
    finally:
        scenario.close()


def test_an_unseen_flip_between_polls_needs_review(scenario: Scenario) -> None:
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.poll()
    scenario.at("2026-11-30 10:00").event(1, "status", 6)
    scenario.at("2026-11-30 11:00").event(1, "status", 2)
    scenario.at("2026-11-30 12:00")
    scenario.poll()
    report = scenario.judge(1)
    assert report.needs_review and "a pause may be missing" in report.needs_review[0]


def test_as_of_answers_with_what_was_known_then(scenario: Scenario) -> None:
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.poll()
    scenario.at("2026-11-30 10:30").event(1, "agent_reply")
    scenario.poll()
    scenario.at("2026-12-01 10:00").event(1, "status", 4)
    scenario.poll()
    then = scenario.judge(1, "2026-11-30 10:00")
    assert then.response.state is ClockState.RUNNING and then.status == 2
    assert then.seen.first_responded_at is None
    now = scenario.judge(1)
    assert now.response.state is ClockState.MET and now.restoration.state is ClockState.MET


def test_the_bulk_listing_agrees_with_the_detail_view(scenario: Scenario) -> None:
    subjects = {1: INVOICE_BLOCKED, 2: "Application inaccessible", 3: "Tri incorrect"}
    for ticket_id, subject in subjects.items():
        scenario.at(f"2026-11-30 {8 + ticket_id:02d}:00").ticket(ticket_id, subject)
    scenario.poll()
    scenario.at("2026-11-30 12:00").event(1, "status", 3)
    scenario.poll()
    now = paris("2026-11-30 15:00")
    listed = evaluate_tickets(scenario.engine, scenario.settings, scenario.calendar, now=now)
    assert [report.id for report in listed] == [1, 2, 3]
    for report in listed:
        detailed = scenario.judge(report.id, "2026-11-30 15:00")
        assert (report.response, report.restoration) == (detailed.response, detailed.restoration)
        assert report.classification == detailed.classification and report.history is None


def test_freshdesks_own_due_dates_are_cross_checked(scenario: Scenario) -> None:
    scenario.at("2026-11-27 16:30").ticket(1)  # Freshdesk policy: 1 h wall-clock for Urgent
    scenario.poll()
    report = scenario.judge(1)
    assert_deadline(report.response, "2026-11-30 10:30")
    assert any(
        finding.startswith("Freshdesk fr_due_by 2026-11-27T16:30:00Z")
        for finding in report.disagreements
    )


def test_clocks_read_the_same_from_postgresql_and_sqlite(tmp_path: Path, store_url: str) -> None:
    """The bulk reads bypass column types, so both drivers' raw values are checked."""
    scenario = Scenario(tmp_path)
    try:
        scenario.engine = open_store(store_url)
        scenario.at("2026-11-30 09:00").ticket(1)
        scenario.ticket(2, "Synchronisation ERP Sage en échec")
        scenario.poll()
        scenario.at("2026-11-30 10:00").event(1, "status", 3)
        scenario.poll()
        now = paris("2026-11-30 15:00")
        listed = evaluate_tickets(scenario.engine, scenario.settings, scenario.calendar, now=now)
        first = listed[0]
        assert (
            first.restoration.elapsed_seconds == HOUR
            and first.restoration.state is ClockState.PAUSED
        )
        assert first.created_at == paris("2026-11-30 09:00")
        assert listed[1].classification.external_link.value is True
    finally:
        scenario.close()


def test_the_rules_verdict_is_kept_until_a_new_poll_or_a_rule_change(tmp_path: Path) -> None:
    scenario = Scenario(tmp_path)

    def stored() -> Any:
        with scenario.engine.connect() as connection:
            return connection.execute(select(table_of(Ticket).c.rule_verdict)).scalar_one()

    try:
        scenario.at("2026-11-30 09:00").ticket(1)
        scenario.poll()
        assert stored() is None  # the sync only stores polls
        assert scenario.judge(1).classification.severity.by == "blocking-fr"
        assert stored() is None  # a read never writes
        scenario.keep_verdicts()
        assert stored()["severity"] == [
            "blocking",
            "rule",
            "blocking-fr",
        ]  # kept by the service's evaluation
        scenario.at("2026-11-30 10:00").event(1, "customer_reply")
        scenario.poll()
        assert stored() is None  # a new poll: classified again next time
        scenario.keep_verdicts()
        # A new first rule: the stored verdict no longer matches the rules and is recomputed.
        first = {"name": "invoices-are-minor", "value": "minor", "keywords": ["facture"]}
        rules = [first, *(rule.model_dump() for rule in scenario.settings.classification.severity)]
        scenario.settings = scenario.settings.model_validate(
            {**scenario.settings.model_dump(), "classification": {"severity": rules}}
        )
        report = scenario.judge(1)
        assert (report.classification.severity.value, report.classification.severity.by) == (
            "minor",
            "invoices-are-minor",
        )
        assert stored()["severity"] == ["blocking", "rule", "blocking-fr"]  # reads never write
        scenario.keep_verdicts()
        assert stored()["severity"] == ["minor", "rule", "invoices-are-minor"]
    finally:
        scenario.close()


# -- issue 9: histories that real accounts produce ------------------------------------------


def _paused_then_answered_twice(scenario: Scenario, *, poll_between: bool) -> None:
    """Paused Mon 14:00, customer answers Tue 11:00, agent sets Open Wed 16:00, customer
    writes again Thu 10:00."""
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.poll()
    scenario.at("2026-11-30 14:00").event(1, "status", 3)
    scenario.poll()
    for at, kind, value in (
        ("2026-12-01 11:00", "customer_reply", 0),
        ("2026-12-02 16:00", "status", 2),
        ("2026-12-03 10:00", "customer_reply", 0),
    ):
        scenario.at(at).event(1, kind, value)
        if poll_between:
            scenario.poll()
    scenario.at("2026-12-03 12:00").poll()


def test_a_later_customer_reply_never_stretches_an_earlier_pause(scenario: Scenario) -> None:
    _paused_then_answered_twice(scenario, poll_between=True)
    report = scenario.judge(1)
    # Mon 09–14 (5 h) + Tue 11–18 (7 h) + Wed (9 h) + Thu 09–12 (3 h): paused only Mon 14:00 →
    # Tue 11:00. Judged on the latest reply alone, the pause ran to Wed 16:00 (10 h).
    assert report.restoration.elapsed_seconds == 24 * HOUR
    assert scenario.judge(1, "2026-12-01 12:00").restoration.elapsed_seconds == 6 * HOUR
    assert (
        report.restoration.elapsed_seconds
        == scenario.judge(1, "2026-12-03 12:00").restoration.elapsed_seconds
    )


def test_replies_between_two_polls_are_read_from_the_conversations(tmp_path: Path) -> None:
    for read, hours in ((True, 24), (False, 10)):
        (tmp_path / str(read)).mkdir()
        scenario = Scenario(tmp_path / str(read), sync={"start_date": "2026-01-01",
                                                        "read_conversations": read})  # fmt: skip
        try:
            _paused_then_answered_twice(scenario, poll_between=False)
            assert scenario.judge(1).restoration.elapsed_seconds == hours * HOUR
        finally:
            scenario.close()


def test_an_older_snapshot_never_rewrites_history(scenario: Scenario) -> None:
    """A replica a few minutes behind hands back a version older than the stored one."""
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.at("2026-11-30 09:05").poll()
    scenario.at("2026-11-30 09:30").event(1, "status", 3)
    scenario.at("2026-11-30 10:00").event(1, "agent_reply")
    scenario.event(1, "status", 4)
    scenario.at("2026-11-30 10:05").poll()
    before = scenario.judge(1)
    assert before.response.state is ClockState.MET and before.restoration.state is ClockState.MET
    scenario.state.now = int(paris("2026-11-30 09:45").timestamp())  # the lagging replica
    sync_once(scenario.client, scenario.engine, scenario.settings,
              now=paris("2026-11-30 10:10"), full=True)  # fmt: skip
    with scenario.engine.connect() as connection:
        stored = connection.execute(select(table_of(Ticket))).mappings().one()
        ignored = [c for (c,) in connection.execute(select(table_of(TicketChange).c.changes))
                   if "ignored_snapshot" in c]  # fmt: skip
    assert stored["status"] == 4 and stored["first_responded_at"] is not None
    assert ignored == [{"ignored_snapshot": ["2026-11-30T09:00:00Z", "2026-11-30T08:30:00Z"]}]
    after = scenario.judge(1, "2026-11-30 10:10")
    assert after.response.state is ClockState.MET and after.restoration.state is ClockState.MET
    assert not any(t.from_status in (4, 5) for t in after.transitions)  # no bogus reopen
    assert [(t.from_status, t.to_status, t.kind) for t in after.transitions] == [
        (None, 2, "observed"), (2, 3, "observed"), (3, 4, "observed")]  # fmt: skip


def test_one_ticket_that_cannot_be_judged_does_not_stop_the_others(
    scenario: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.ticket(2)
    scenario.poll()
    scenario.keep_verdicts()
    with scenario.engine.begin() as connection:  # a kept verdict damaged on disk
        table = table_of(Ticket)
        connection.execute(table.update().where(table.c.id == 1).values(rule_verdict={"x": 1}))
    reports = evaluate_tickets(
        scenario.engine, scenario.settings, scenario.calendar, now=scenario.now
    )
    assert [report.id for report in reports] == [2]
    assert "ticket 1 cannot be judged, left out" in caplog.text
