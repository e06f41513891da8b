"""Interactive speed (issue 12): whole-process times of the read commands on a large store,
the service's poll when 100 tickets changed, the full sync and the first judgment, and a
replay (polls, decisions, exclusions, contracts, a rule change) after which ``verify`` must
find no difference.

Not a test. Run (the store is built once, then reused with --reuse):
    .venv/bin/python benchmarks/interactive_bench.py --tickets 100000 \
        --database sqlite:////root/bench/i100k.db --workdir /root/bench/i100k
    .venv/bin/python benchmarks/interactive_bench.py --tickets 1000000 \
        --database postgresql+psycopg://postgres@127.0.0.1:5432/test --schema bench_1m \
        --workdir /root/bench/i1m

Each command is run as its own process under /usr/bin/time -v (wall time and peak RSS),
several times; the table gives min / median / max. The simulator runs in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests
from sync_bench import calendar_reference_us, start_simulator

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "sla_tracker"]
RULE_CHANGE = """
[[classification.severity]]
name = "bench-export-major"
value = "major"
keywords = ["export"]
"""


def timed(
    command: list[str], env: dict[str, str], *, stdout: int | None = None
) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, output) of one whole process, measured from outside."""
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-v", *command], env=env, capture_output=stdout is None,
        stdout=stdout, stderr=subprocess.PIPE if stdout is not None else None, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    stderr = result.stderr or ""
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    rss = int(match.group(1)) / 1024 if match else float("nan")
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed: {(result.stdout or '')[-2000:]} {stderr[-2000:]}")
    return seconds, rss, result.stdout or ""


def series(command: list[str], env: dict[str, str], runs: int, *, to_null: bool = False) -> str:
    figures = []
    for _ in range(runs):
        if to_null:
            with open(os.devnull, "w") as null:
                figures.append(timed(command, env, stdout=null.fileno())[:2])
        else:
            figures.append(timed(command, env)[:2])
    seconds = sorted(f[0] for f in figures)
    rss = max(f[1] for f in figures)
    return (f"{seconds[0]:.2f} / {statistics.median(seconds):.2f} / {seconds[-1]:.2f} s, "
            f"{rss:.0f} MB")  # fmt: skip


def sim_now(url: str) -> str:
    return str(requests.post(url + "/_sim/clock", json={}, timeout=30).json()["now"])


def write_config(path: Path, database: str, url: str, *, rules: bool) -> None:
    text = (f'[database]\nurl = "{database}"\n[freshdesk]\nbase_url = "{url}"\n'
            f'calls_per_minute = 100000\n[sync]\nstart_date = "2025-01-01"\n')  # fmt: skip
    path.write_text(text + (RULE_CHANGE if rules else ""), encoding="utf-8")


def database_url(database: str, schema: str | None, *, reset: bool) -> str:
    if schema is None:
        return database
    import sqlalchemy

    engine = sqlalchemy.create_engine(database)
    with engine.begin() as connection:
        if reset:
            connection.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    return f"{database}?options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database", required=True)
    parser.add_argument("--schema", help="PostgreSQL schema for the store (reset unless --reuse)")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument(
        "--reuse", action="store_true", help="skip the build (full sync, first judgment)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-replay", action="store_true", help="measure the store as it is")
    parser.add_argument("--verify-sample", type=int, help="verify N random tickets, not all")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    config = args.workdir / "sla-tracker.toml"
    database = database_url(args.database, args.schema, reset=not args.reuse)
    if not args.reuse and database.startswith("sqlite:///"):
        Path(database.removeprefix("sqlite:///")).unlink(missing_ok=True)
    print(f"# interactive_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.tickets:,} tickets")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"machine-speed reference, calendar between: {calendar_reference_us():.2f} µs/op (1.57 at best)"
    )
    simulator, url = start_simulator(args.tickets)
    env = {**os.environ, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key", "COLUMNS": "100"}
    rows: list[tuple[str, str]] = []
    try:
        write_config(config, database, url, rules=False)
        base = [*CLI, "--config", str(config)]
        if not args.reuse:
            now = sim_now(url)
            worker = [sys.executable, str(ROOT / "benchmarks" / "sync_bench.py"), "--worker",
                      url, database, now]  # fmt: skip
            seconds, rss, output = timed(worker, env)
            synced = json.loads(output.strip().splitlines()[-1])
            rows.append(("full sync from the simulator",
                         f"{synced['new'] / synced['seconds']:,.0f} tickets/s "
                         f"({synced['new']:,} in {synced['seconds']:.0f} s), {rss:.0f} MB"))  # fmt: skip
            seconds, rss, output = timed([*base, "refresh"], {**env, "SLA_TRACKER_NOW": now})
            rows.append(("first judgment after the backfill", f"{seconds:.1f} s, {rss:.0f} MB"))
            print(*rows[-2:], sep="\n", flush=True)
        if not args.no_replay:
            replay(url, config, base, env, database)
        now = sim_now(url)
        env = {**env, "SLA_TRACKER_NOW": now}
        write_config(config, database, url, rules=not args.no_replay)  # as last judged
        ticket_id = open_ticket(base, env)
        measured = {
            "`sla-tracker --help`": [*CLI, "--help"],
            "`calendar deadline …`": [*CLI, "calendar", "deadline", "2026-11-27T16:30:00+01:00", "2"],
            f"`ticket {ticket_id}`": [*base, "ticket", str(ticket_id)],
            "`tickets --open --at-risk`": [*base, "tickets", "--open", "--at-risk", "--limit", "30"],
            "`indemnities`": [*base, "indemnities"],
            "`exposure`": [*base, "exposure"],
            "`report weekly` (build + render)": [*base, "report", "weekly", "--out",
                                                 str(args.workdir / "report.html")],
        }  # fmt: skip
        for name, command in measured.items():
            rows.append((name, series(command, env, args.runs)))
            print(rows[-1], flush=True)
        rows.append(("`tickets --json` (all tickets)",
                     series([*base, "tickets", "--json"], env, 3, to_null=True)))  # fmt: skip
        print(rows[-1], flush=True)
        rows.append(("service poll, 100 changed tickets (sync + judgments + alerts)",
                     service_poll(url, config, database, env)))  # fmt: skip
        print(rows[-1], flush=True)
        sample = ["--sample", str(args.verify_sample)] if args.verify_sample else []
        seconds, rss, output = timed([*base, "verify", *sample], env)
        rows.append(("`verify` (every kept judgment against its history)",
                     f"{output.strip().splitlines()[-1]} — {seconds:.1f} s, {rss:.0f} MB"))  # fmt: skip
    finally:
        simulator.terminate()
    print()
    print("| what | figure (min / median / max, peak RSS) |")
    print("|---|---|")
    for name, figure in rows:
        print(f"| {name} | {figure} |")


def replay(url: str, config: Path, base: list[str], env: dict[str, str], database: str) -> None:
    """Polls with decisions, exclusions and contracts in between, then a rule change."""
    rng = random.Random(12)
    for poll in range(3):
        requests.post(url + "/_sim/clock", json={"advance_seconds": 3 * 3600}, timeout=60)
        now = sim_now(url)
        run_env = {**env, "SLA_TRACKER_NOW": now}
        timed([*base, "sync"], run_env)
        ids = [int(item["id"]) for item in json.loads(
            timed([*base, "tickets", "--open", "--json"], run_env)[2])]  # fmt: skip
        for ticket_id in rng.sample(ids, min(10, len(ids))):
            timed([*base, "classify", str(ticket_id), "--severity", "blocking", "--reason",
                   "bench", "--by", "bench"], run_env)  # fmt: skip
        for ticket_id in rng.sample(ids, min(5, len(ids))):
            timed([*base, "exclude", str(ticket_id), "--reason", "network_failure",
                   "--note", "bench", "--from", now, "--to", "2026-12-04T10:00:00Z",
                   "--by", "bench"], run_env)  # fmt: skip
        companies = {item["company_id"] for item in json.loads(
            timed([*base, "tickets", "--json", "--limit", "0"], run_env)[2])[:200]}  # fmt: skip
        for company in sorted(c for c in companies if c)[: 3 + poll]:
            timed([*base, "contracts", "set", str(company), "--fee", "12000", "--start",
                   "2026-01-01", "--by", "bench"], run_env)  # fmt: skip
        print(f"replay poll {poll + 1} at {now}: decisions, exclusions, contracts", flush=True)
    write_config(config, database, url, rules=True)
    now = sim_now(url)
    seconds, rss, _ = timed([*base, "refresh"], {**env, "SLA_TRACKER_NOW": now})
    print(f"rule change: every ticket judged again in {seconds:.1f} s, {rss:.0f} MB", flush=True)


def open_ticket(base: list[str], env: dict[str, str]) -> int:
    output = timed([*base, "tickets", "--open", "--limit", "1", "--json"], env)[2]
    return int(json.loads(output)[0]["id"])


def service_poll(url: str, config: Path, database: str, env: dict[str, str]) -> str:
    """100 tickets change in the simulator; the service's poll (sync, judgments, alerts) is
    timed inside its process, several times."""
    code = f"""
import json, sys, time, random
import requests
from sla_tracker.calendar_files import load_named_calendar
from sla_tracker.config import find_config_file, load_settings
from sla_tracker.core.instants import parse_instant
from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
from sla_tracker.service.scheduler import Service
from sla_tracker.storage.schema import open_store
settings = load_settings(find_config_file({str(config)!r}, {{}}))
engine = open_store(settings.database.url)
calendar = load_named_calendar(settings.calendar.name, settings)
client = FreshdeskClient({url!r}, "sim-key", calls_per_minute=None)
service = Service(settings, engine, calendar, client, lambda: None)
ids = [int(t["id"]) for t in json.loads(sys.stdin.read())]
rng = random.Random(5)
figures = []
for run in range(5):
    requests.post({url!r} + "/_sim/clock", json={{"advance_seconds": 600}})
    for ticket_id in rng.sample(ids, 100):
        requests.post({url!r} + f"/_sim/tickets/{{ticket_id}}", json={{"event": "agent_reply"}})
    now = parse_instant(requests.post({url!r} + "/_sim/clock", json={{}}).json()["now"])
    started = time.perf_counter()
    result = service.sync_and_alert(now)
    figures.append(time.perf_counter() - started)
print(json.dumps({{"seconds": figures, "last": result}}, default=str))
"""
    tickets = timed([*CLI, "--config", str(config), "tickets", "--open", "--json"], env)[2]
    result = subprocess.run([sys.executable, "-c", code], input=tickets, env=env, text=True,
                            capture_output=True, check=True, cwd=ROOT)  # fmt: skip
    data = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = sorted(data["seconds"])
    return (f"{seconds[0]:.2f} / {statistics.median(seconds):.2f} / {seconds[-1]:.2f} s "
            f"(last: {data['last']})")  # fmt: skip


if __name__ == "__main__":
    main()
