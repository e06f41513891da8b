"""A user's files are never destroyed by the demo; what the tracker creates is owner-only;
any folder name gives a valid config."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from sla_tracker.cli import cli

NOW = "2026-11-26T12:00:00Z"


@pytest.mark.parametrize(
    "foreign",
    [("sla-tracker.db",), ("sla-tracker.toml",), ("sla-tracker.db", "sla-tracker.toml")],
)
@pytest.mark.parametrize("directory", [".", "prod"])
def test_the_demo_refuses_a_folder_with_files_it_did_not_create_and_leaves_them_intact(
    foreign: tuple[str, ...],
    directory: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / directory
    folder.mkdir(exist_ok=True)
    contents = {name: f"{name}: the user's own\n".encode() + bytes(range(256)) for name in foreign}
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--tickets", "50", "--dir", directory])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {folder.resolve()} holds {', '.join(foreign)}")
    assert "which the demo did not create" in result.output
    assert "sla-tracker demo --dir NEW_FOLDER" in result.output  # the way out
    assert "Traceback" not in result.output
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == contents


def test_the_demo_runs_again_in_its_own_folder_whatever_its_name_with_owner_only_files(
    tmp_path: Path,
) -> None:
    folder = tmp_path / 'a "quoted" \\ folder #1 %41?'
    for run in (1, 2):  # the second run replaces the first one's output, which is its own
        result = CliRunner().invoke(
            cli,
            ["demo", "--tickets", "100", "--dir", str(folder)],
            env={"SLA_TRACKER_NOW": NOW},
        )
        assert result.exit_code == 0, f"run {run}: {result.output}"
        assert "A day ago, first sync (backfill): Synced in " in result.output
    config_path = folder / "sla-tracker.toml"
    config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    assert make_url(config["database"]["url"]).database == str(folder / "sla-tracker.db")
    assert config["freshdesk"]["api_key"] == "sim-key"
    private = [config_path, *folder.glob("sla-tracker.db*")]
    assert {path.name for path in private} >= {"sla-tracker.toml", "sla-tracker.db"}
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in private} == {
        path.name: 0o600 for path in private
    }
