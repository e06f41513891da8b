"""Start-up (issue 12): `--help` and the business-time calculator load no database driver,
no store, no rich, no templates, no HTTP or scheduling library."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "sla_tracker.storage", "rich", "requests",
         "jinja2", "apscheduler", "babel", "icalendar")  # fmt: skip
PROBE = """
import json, sys
from sla_tracker.cli import cli
try:
    cli(sys.argv[1:], prog_name="sla-tracker")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(*args: str) -> list[str]:
    """The modules a fresh interpreter holds after running the command."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return list(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    ("args", "also"),
    [
        (("--help",), ("pydantic", "holidays", "sla_tracker.config")),  # no settings either
        (("ticket", "--help"), ("pydantic", "holidays", "sla_tracker.config")),
        (("calendar", "deadline", "2026-11-27T15:30:00Z", "2"), ()),
    ],
)
def test_light_commands_import_nothing_heavy(args: tuple[str, ...], also: tuple[str, ...]) -> None:
    avoided = (*HEAVY, *also)
    heavy = [name for name in loaded_after(*args) if name.startswith(avoided)]
    assert heavy == [], f"`sla-tracker {' '.join(args)}` imported {heavy[:5]}"


def test_every_listed_command_loads() -> None:
    """Each name of the lazy map resolves to a command (a typo there would only fail when
    someone runs that command)."""
    from click.testing import CliRunner

    from sla_tracker.cli import cli
    from sla_tracker.cli.base import COMMANDS

    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: cli " + name in result.output or f" {name} " in result.output
