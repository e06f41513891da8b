"""The demo tells one story (issue 13.9): its history ends now, nothing is recorded in the
future, the commands it prints work as printed and agree with it, and ``--serve`` keeps the
simulator running for ``sync``."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sla_tracker.cli import cli

NOW = "2026-11-26T12:00:00Z"
ENV = {"SLA_TRACKER_NOW": NOW}


def printed_commands(output: str) -> list[list[str]]:
    """The commands the demo ends with, as a shell would split them."""
    return [shlex.split(line)[1:] for line in output.splitlines() if line.startswith("  sla-")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo") / "my demo"  # a space: quoting is tested too
    result = CliRunner().invoke(cli, ["demo", "--tickets", "300", "--dir", str(folder)], env=ENV)
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_the_history_ends_now_and_nothing_is_recorded_later(demo: tuple[Path, str]) -> None:
    folder, output = demo
    assert "A day ago, first sync (backfill): Synced in" in output
    assert "Polled again, nothing changed: 1 API call(s)" in output
    with sqlite3.connect(folder / "sla-tracker.db") as connection:
        latest = [
            connection.execute(f"SELECT max({column}) FROM {table}").fetchone()[0]  # noqa: S608
            for table, column in [("sync_run", "started_at"), ("ticket", "last_seen_at"),
                                  ("ticket", "updated_at"), ("ticket_snapshot", "observed_at"),
                                  ("contract_version", "recorded_at")]
        ]  # fmt: skip
    assert all(value[:19] <= "2026-11-26 12:00:00" for value in latest), latest
    assert any(value[:19] == "2026-11-26 12:00:00" for value in latest), latest


def test_the_printed_commands_work_as_printed_and_agree(demo: tuple[Path, str]) -> None:
    _, output = demo
    commands = printed_commands(output)
    assert [args[2] for args in commands][:1] == ["tickets"] and len(commands) == 8
    answers = {}
    for args in commands:
        result = CliRunner().invoke(cli, args, env=ENV)
        assert result.exit_code == 0, (args, result.output)
        answers[" ".join(args[2:])] = result.output
    # What the demo said is at risk is what `tickets --open --at-risk` lists.
    counted = int(output.split("Clocks as of ")[1].split(": ")[1].split(" open ticket(s)")[0])
    at_risk = answers["tickets --open --at-risk"]
    assert at_risk.startswith(f"{counted} ticket(s) as of") or f"of {counted} ticket(s)" in at_risk
    status = json.loads(
        CliRunner().invoke(cli, [*commands[0][:2], "status", "--json"], env=ENV).output
    )
    assert status["last_sync"]["started_at"] == NOW


def test_serve_keeps_the_simulator_for_sync_until_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "served"
    demo = subprocess.Popen(
        [sys.executable, "-m", "sla_tracker", "demo", "--tickets", "50", "--dir", str(folder),
         "--serve"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **ENV},
    )  # fmt: skip
    assert demo.stdout is not None
    try:
        lines = []
        while not (lines and lines[-1].strip().endswith(" run")):
            line = demo.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        assert "Ctrl-C stops it" in "".join(lines)
        sync = printed_commands("".join(lines))[-2]
        assert sync[-1] == "sync"
        result = CliRunner().invoke(cli, sync, env=ENV)
        assert result.exit_code == 0 and "Synced in" in result.output, result.output
    finally:
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0 and "Simulator stopped" in rest
