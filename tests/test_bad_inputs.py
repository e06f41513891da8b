"""Every command walked with hostile values: each gets ``Error: …`` with click's status 2
for a usage error or 1 for any other, never a traceback, and the database stays as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from click.testing import CliRunner

from sla_tracker.cli import cli
from tests.scenarios import Scenario

NOW = "2026-11-30T12:00:00+01:00"
BIG = str(2**63)
START = "2026-11-27T15:30:00Z"
EXCLUDE = ("--reason", "network_failure", "--note", "x")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store filled through the simulator (a GTR breach, a contract, sync runs), and
    hostile files beside it."""
    path = tmp_path_factory.mktemp("bad-inputs")
    scenario = Scenario(path)
    scenario.at("2026-11-02 09:00").ticket(1)
    scenario.ticket(2, "Tri des colonnes incorrect, contournement possible")
    scenario.poll()
    scenario.at("2026-11-16 10:00").event(1, "status", 4)
    scenario.poll()
    scenario.close()
    (path / "sla-tracker.toml").write_text(
        f'[database]\nurl = "sqlite:///{path / "scenario.db"}"\n', encoding="utf-8"
    )
    (path / "latin1.toml").write_bytes("[report]\nlanguage = 'fr'  # café\n".encode("latin-1"))
    (path / "secret").write_bytes(b"\xffsecret")
    header = "company_id,fee,period,start\n"
    for name, body in {
        "latin1.csv": "1,6000,annual,2026-01-01,café\n".encode("latin-1"),
        "wide.csv": b"2,6000,annual,2026-01-01,surplus,cells\n",
        "big-id.csv": f"{BIG},6000,annual,2026-01-01\n".encode(),
        "nan-fee.csv": b"2,NaN,annual,2026-01-01\n",
        "inf-fee.csv": b"2,Infinity,annual,2026-01-01\n",
        "huge-fee.csv": b"2,1e999999,annual,2026-01-01\n",
        "nul.csv": b"2,6000,annual,2026-01-01\n3,60\x0000,annual,2026-01-01\n",
        "year-1.csv": b"2,6000,annual,0001-01-01\n",
    }.items():
        (path / name).write_bytes(header.encode() + body)
    (path / "headless.csv").write_bytes(b"")
    database = f'[database]\nurl = "sqlite:///{path / "scenario.db"}"\n'
    for name, toml in BAD_CONFIGS.items():
        (path / f"{name}.toml").write_text(toml + "\n" + database, encoding="utf-8")
    config = path / "sla-tracker.toml"
    for warm_up in (["contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01"],
                    ["tickets"], ["indemnities"]):  # fmt: skip
        assert invoke(config, warm_up).exit_code == 0
    yield path


def invoke(config: Path, args: list[str], env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"SLA_TRACKER_NOW": NOW, **(env or {})}
    )


def dump(database: Path) -> dict[str, list[str]]:
    """Every row of every table, in a stable order."""
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return {
                table: sorted(
                    repr(tuple(row))
                    for row in connection.execute(sqlalchemy.text(f'SELECT * FROM "{table}"'))  # noqa: S608 - the inspector's names
                )
                for table in sqlalchemy.inspect(connection).get_table_names()
            }
    finally:
        engine.dispose()


USAGE, FAILURE = 2, 1
BAD_CONFIGS = {
    "zone": '[schedule]\ntimezone = "Europe/Pariss"',
    "hours": "[response]\nblocking_hours = nan",
    "interval": "[schedule]\nsync_minutes = 100000",
    "webhook": '[alerts]\nwebhook_url = "ftp://hooks.example.com/x"',
    "base-url": '[freshdesk]\nbase_url = "file:///etc/passwd"',
    "secret-typo": '[freshdesk]\napikey = "SECRET-VALUE"',
    "start-date": "[sync]\nstart_date = 0001-01-01",
    "toml": "[sync\n",
}
# (arguments, expected status, extra environment); {dir} is the fixture's folder.
CASES: list[tuple[list[str], int, dict[str, str]]] = [
    # ids beyond 64 bits, or not ids at all
    *[
        (args, USAGE, {})
        for bad in (BIG, "99999999999999999999999", "0", "abc", "1.5", "")
        for args in (
            ["ticket", bad],
            ["explain", bad],
            ["classify", bad, "--severity", "major", "--reason", "x"],
            ["exclude", bad, *EXCLUDE],
            ["unexclude", bad, "--reason", "x"],
            ["contracts", "set", bad, "--fee", "6000", "--start", "2026-01-01"],
            ["statement", bad, "--period", "2026", "--out", "{dir}/statement.html"],
            ["tickets", "--company", bad],
            ["indemnities", "--company", bad],
            ["period", "close", bad, "2026"],
        )
    ],
    *[
        (["--config", f"{{dir}}/{name}.toml", *args], FAILURE, {})
        for name in BAD_CONFIGS
        for args in (
            ["check-config"],
            ["tickets"],
            ["sync"],
            ["status"],
            ["indemnities"],
            ["report", "weekly"],
            ["db", "upgrade"],
            ["contracts", "list"],
            ["calendar", "deadline", START, "2"],
        )
    ],
    *[
        (args, USAGE, {})
        for args in (
            ["classify", "1", "--severity", "major", "--reason", "x", "--by", " "],
            ["exclude", "1", *EXCLUDE, "--by", ""],
            ["unexclude", "1", "--reason", "x", "--by", ""],
            ["contracts", "set", "2", "--fee", "6000", "--start", "2026-01-01", "--by", ""],
            ["contracts", "import", "{dir}/wide.csv", "--by", ""],
            ["period", "close", "--all", "2026", "--by", ""],
            ["tickets", "--json", "--csv"],
            ["indemnities", "--json", "--csv"],
        )
    ],
    *[
        (["contracts", "set", "2", "--fee", "6000", "--start", "2026-01-01", *more], FAILURE, {})
        for more in (
            ["--currency", ""],
            ["--currency", "=cmd"],
            ["--currency", "eur"],
            ["--terminated", "2025-12-31"],
            ["--terminated", "2026-01-01"],
        )
    ],
    (["ticket", "-1"], USAGE, {}),
    (["ticket", "424242"], FAILURE, {}),
    (["classify", "424242", "--severity", "major", "--reason", "x"], FAILURE, {}),
    (["classify", "1", "--reason", "nothing to record"], FAILURE, {}),
    (["unexclude", "424242", "--reason", "x"], FAILURE, {}),
    # fees that are not amounts
    *[
        (["contracts", "set", "1", "--fee", fee, "--start", "2026-01-01"], FAILURE, {})
        for fee in (
            "NaN",
            "Infinity",
            "-Infinity",
            "sNaN",
            "1e999999",
            "1e20",
            "0",
            "-5",
            "0.001",
            "lots",
            "",
        )
    ],
    *[
        (["contracts", "set", "2", "--fee", "6000", "--start", "2026-01-01", *dates], FAILURE, {})
        for dates in (
            ["--start", "0001-01-01"],
            ["--start", "9999-12-31"],
            ["--terminated", "9999-12-31"],
            ["--effective", "2026-06-01"],
        )
    ],
    (["contracts", "set", "1", "--fee", "6000", "--start", "2026-02-30"], USAGE, {}),
    (
        ["contracts", "set", "1", "--fee", "6000", "--start", "2026-01-01", "--period", "x"],
        USAGE,
        {},
    ),
    # CSV imports: every bad file is refused whole, naming the line
    *[
        (["contracts", "import", f"{{dir}}/{name}"], FAILURE, {})
        for name in (
            "latin1.csv",
            "wide.csv",
            "big-id.csv",
            "nan-fee.csv",
            "inf-fee.csv",
            "huge-fee.csv",
            "nul.csv",
            "year-1.csv",
            "headless.csv",
            "missing.csv",
        )
    ],
    (["contracts", "import", "{dir}"], USAGE, {}),
    # non-UTF-8 config and secret files; unreadable secret files
    (["--config", "{dir}/latin1.toml", "check-config"], FAILURE, {}),
    (["--config", "{dir}/missing.toml", "check-config"], FAILURE, {}),
    *[
        (["check-config"], FAILURE, {f"SLA_TRACKER_{name}_FILE": path})
        for name in ("FRESHDESK_API_KEY", "SMTP_PASSWORD")
        for path in ("{dir}/secret", "{dir}", "{dir}/missing")
    ],
    # instants and periods outside the calendar's years 1900–2999
    *[
        (args, USAGE, {})
        for instant in (
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-01:00",
            "1899-12-31T23:59:59Z",
            "3000-01-01T00:00:00Z",
            "2026-11-30T12:00:00",
            "yesterday",
        )
        for args in (
            ["exposure", "--until", instant],
            ["tickets", "--as-of", instant],
            ["indemnities", "--as-of", instant],
            ["ticket", "1", "--as-of", instant],
            ["explain", "1", "--as-of", instant],
            ["sync", "--since", instant],
            ["exclude", "1", *EXCLUDE, "--from", instant, "--to", "2026-11-30T12:00:00Z"],
            ["calendar", "between", instant, START],
            ["calendar", "deadline", instant, "2"],
            ["statement", "1", "--period", "2026", "--out", "{dir}/s.html", "--as-of", instant],
        )
    ],
    *[
        (args, FAILURE, {})
        for period in (
            "0001",
            "9999",
            "9999-12",
            "9999-Q4",
            "0001-01",
            "2026-Q5",
            "2026-13",
            "soon",
        )
        for args in (
            ["indemnities", "--period", period],
            ["period", "close", "--all", period],
            ["period", "close", "1", period],
            ["statement", "1", "--period", period, "--out", "{dir}/s.html"],
        )
    ],
    *[
        (["report", "weekly", "--week", week], USAGE, {})
        for week in ("0001-W01", "9999-W52", "1899-W52", "3000-W01", "W48", "2026-48")
    ],
    *[(["report", "weekly", "--week", week], FAILURE, {}) for week in ("2026-W54", "2026-W00")],
    *[
        (["status"], FAILURE, {"SLA_TRACKER_NOW": now})
        for now in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-11-30T12:00:00")
    ],
    (["exposure"], FAILURE, {"SLA_TRACKER_NOW": "9999-12-31T23:59:59Z"}),
    (["exclude", "1", *EXCLUDE, "--from", "2026-11-27T15:00:00Z"], FAILURE, {}),
    (["exclude", "1", *EXCLUDE, "--from", START, "--to", "2026-11-27T15:00:00Z"], FAILURE, {}),
    (["exclude", "1", "--reason", "whim", "--note", "x"], USAGE, {}),
    # --out into a missing folder, a full device, a folder
    *[
        (args, FAILURE, {})
        for out in ("{dir}/missing/out.html", "/dev/full")
        for args in (
            ["statement", "1", "--period", "2026", "--out", out],
            ["report", "weekly", "--week", "2026-W47", "--out", out],
            ["calendar", "ics", "2026", "--out", out],
        )
    ],
    (["statement", "1", "--period", "2026", "--out", "{dir}"], USAGE, {}),
    (["calendar", "ics", "2026", "--out", "{dir}"], USAGE, {}),
    # business-hour budgets that are not numbers, or outlast the calendar
    *[
        (["calendar", "deadline", START, hours], USAGE, {})
        for hours in ("nan", "inf", "Infinity", "sNaN", "1e999999", "0.0001", "two", "")
    ],
    (["calendar", "deadline", START, "-inf"], USAGE, {}),
    (["calendar", "deadline", START, "1e12"], FAILURE, {}),
    (["calendar", "between", "2027-01-01T00:00:00Z", START], FAILURE, {}),
    (["calendar", "deadline", START, "2", "--calendar", "../../etc/passwd"], FAILURE, {}),
    *[(["calendar", "show", month], USAGE, {}) for month in ("2026-13", "2026", "0-1", "x")],
    *[(["calendar", "ics", year], USAGE, {}) for year in ("1", "9999", "x")],
    # the service's own commands
    *[(["simulator", "serve", "--port", port], USAGE, {}) for port in ("99999", "-1", "x")],
    (["simulator", "serve", "--tickets", "many"], USAGE, {}),
    (["demo", "--tickets", "many"], USAGE, {}),
    (["demo", "--dir", "{dir}/wide.csv"], USAGE, {}),
    (["sync"], FAILURE, {}),  # no Freshdesk configured
    (["no-such-command"], USAGE, {}),
    (["tickets", "--json", "--severity", "dreadful"], USAGE, {}),
]


@pytest.mark.parametrize(
    ("args", "status", "env"), CASES, ids=[" ".join(args) or "-" for args, _, _ in CASES]
)
def test_a_bad_input_is_an_error_not_a_traceback(
    folder: Path, args: list[str], status: int, env: dict[str, str]
) -> None:
    database = folder / "scenario.db"
    before = dump(database)
    args = [arg.replace("{dir}", str(folder)) for arg in args]
    env = {key: value.replace("{dir}", str(folder)) for key, value in env.items()}
    result = invoke(folder / "sla-tracker.toml", args, env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Error:" in result.output
    assert "Traceback" not in result.output and "SECRET-VALUE" not in result.output
    assert result.exit_code == status, result.output
    assert dump(database) == before
