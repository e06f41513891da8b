"""Service commands: sync, weekly report, service and status, schema, simulator."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import signal
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sla_tracker.cli.base import (
    Runtime,
    _iso_week,
    _optional_instant,
    _sync,
    local_time,
    write_file,
)
from sla_tracker.core.instants import format_instant

if TYPE_CHECKING:
    from collections.abc import Iterator


@click.command("sync")
@click.option("--full", is_flag=True, help="Re-read every ticket since sync.start_date.")
@click.option("--since", callback=_optional_instant, help="Re-read tickets updated since INSTANT.")
@click.option("--reconcile", is_flag=True, help="Also re-read open tickets by id now.")
@click.option(
    "--no-judge",
    "judge",
    flag_value=False,
    default=True,
    help="Only poll: leave keeping the judgments to the service or `refresh` (a backfill).",
)
@click.pass_obj
def sync_command(
    runtime: Runtime, full: bool, since: datetime | None, reconcile: bool, judge: bool
) -> None:
    """Poll Freshdesk into the database (incremental; safe to interrupt and rerun), then keep
    the judgments of the tickets it changed.

    \b
    Example:
        SLA_TRACKER_FRESHDESK_API_KEY=... sla-tracker sync
        sla-tracker sync --since 2026-11-01T00:00:00Z
        sla-tracker sync --full --no-judge && sla-tracker refresh
    """
    from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient

    client = FreshdeskClient.from_settings(runtime.settings.freshdesk)
    with _sigterm_stops_the_sync():
        report = _sync(runtime, client, judge=judge, full=full, since=since, reconcile=reconcile)
    click.echo(report.summary())


class _Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt: no ``except Exception`` (a log handler's, say)
    can swallow it and leave the sync waiting out its back-off."""


@contextlib.contextmanager
def _sigterm_stops_the_sync() -> Iterator[None]:
    """SIGTERM ends the sync at once, even mid back-off, with a message instead of a silent
    death; every page is committed atomically, so what was read stays and a rerun resumes."""

    def stop(_signum: int, _frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except _Terminated:
        raise click.ClickException(
            "stopped by SIGTERM: the tickets read so far are saved; run `sla-tracker sync` "
            "again to resume"
        ) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.group()
def report() -> None:
    """Reports for support managers."""


@report.command("weekly")
@click.option(
    "--week", callback=_iso_week, help="ISO week, e.g. 2026-W48 (default: the last complete week)."
)
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Default: report.language.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML here.")
@click.option("--send", "send_mail", is_flag=True, help="E-mail it to smtp.recipients.")
@click.option("--force", is_flag=True, help="Send even if this week was already sent.")
@click.pass_obj
def report_weekly(
    runtime: Runtime,
    week: str | None,
    lang: str | None,
    out: Path | None,
    send_mail: bool,
    force: bool,
) -> None:
    """The weekly SLA report: compliance, breaches, risks, indemnities, exposure, sync health.

    \b
    Example:
        sla-tracker report weekly --week 2026-W48 --out week-48.html
        sla-tracker report weekly --send
    """
    from sla_tracker.present.emails import render_weekly_report
    from sla_tracker.reports.weekly import build_weekly_report, previous_week, send_weekly_report

    calendar_ = runtime.calendar(None)
    week = week or previous_week(runtime.now, calendar_)
    built = build_weekly_report(
        runtime.engine, runtime.settings, calendar_, week=week, now=runtime.now
    )
    rendered = render_weekly_report(
        built, language=lang or runtime.settings.report.language, calendar=calendar_
    )
    if out:
        write_file(out, rendered.html)
        click.echo(f"Wrote {out}")
    if send_mail:
        sent = send_weekly_report(runtime.engine, runtime.settings, lambda: rendered, week=week,
                                  now=runtime.now, force=force)  # fmt: skip
        recipients = ", ".join(runtime.settings.smtp.recipients)
        if sent.resent:
            click.echo(
                f"Sent again the report of {week} recorded earlier but never confirmed by the "
                f"SMTP server, as recorded and under its Message-ID {sent.message_id}: a "
                "receiver that got it already keeps one copy"
            )
        else:
            click.echo(f"Sent the report of {week} to {recipients} ({sent.message_id})")
    if not out and not send_mail:
        click.echo(rendered.text)


@click.command("run")
@click.pass_obj
def run_command(runtime: Runtime) -> None:
    """Run the background service: sync, alerts, reconciliation, weekly report.

    Only one instance is active per database; others wait as standbys and take over when
    it stops or dies. An active instance that loses its lock (its PostgreSQL session
    killed, a network cut, a failover) stops its jobs and waits as a standby again.
    SIGTERM or Ctrl-C lets the running job finish, then stops.

    \b
    Example:
        SLA_TRACKER_FRESHDESK_API_KEY=... sla-tracker --config /etc/sla-tracker.toml run
    """
    from sla_tracker.cli.web_command import board_beside_service
    from sla_tracker.config import NO_ALERT_CHANNEL, current_instant
    from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
    from sla_tracker.service.scheduler import Service, build_scheduler
    from sla_tracker.storage.locks import lock_holder, service_lock

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for chatty in ("apscheduler", "alembic"):  # our own line per job says what matters
        logging.getLogger(chatty).setLevel(logging.WARNING)
    log = logging.getLogger("sla_tracker.service")
    settings = runtime.settings
    if not settings.alert_channels:
        log.warning(NO_ALERT_CHANNEL)
    client = FreshdeskClient.from_settings(settings.freshdesk)
    holder = f"sla-tracker pid {os.getpid()} on {platform.node()}"
    stopping = threading.Event()
    announced: list[bool] = []

    def stop(signum: int, _frame: object) -> None:
        log.info(
            "received %s: finishing the running job, then stopping", signal.Signals(signum).name
        )
        stopping.set()
        client.stop.set()  # a job waiting out a Freshdesk back-off ends now

    def standby() -> None:
        if stopping.is_set():
            raise _Stopped
        if not announced:
            log.info(
                "standby: another instance is active (%s); waiting", lock_holder(runtime.engine)
            )
            announced.append(True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    poll = settings.schedule.standby_poll_seconds
    role = ["standby"]  # what the board's /readyz tells (web.enabled)
    with contextlib.suppress(_Stopped), board_beside_service(runtime, client, lambda: role[0]):
        while not stopping.is_set():
            role[0] = "standby"
            with service_lock(
                runtime.engine, holder=holder, poll_seconds=poll, on_standby=standby
            ) as lock:
                if stopping.is_set():  # stopped while it waited: run nothing
                    break
                announced.clear()
                role[0] = "active"
                service = Service(settings, runtime.engine, runtime.calendar(None), client,
                                  current_instant, lock=lock)  # fmt: skip
                scheduler = build_scheduler(service)
                scheduler.start()
                jobs = ", ".join(job.id for job in scheduler.get_jobs())
                log.info("active: %s; jobs: %s", holder, jobs)
                while lock.held() and not stopping.wait(poll):
                    pass
                if not stopping.is_set():
                    log.warning(
                        "lost the service lock (session or lock file gone): stepping down, "
                        "stopping the jobs, then waiting as a standby"
                    )
                scheduler.shutdown(wait=True)
    log.info("stopped")


class _Stopped(Exception):
    """SIGTERM or Ctrl-C reached a standby: nothing to finish."""


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (instants in UTC).")
@click.pass_obj
def status_command(runtime: Runtime, as_json: bool) -> None:
    """The last sync, the next run of each job and which instance is active.

    \b
    Example:
        sla-tracker status
        sla-tracker status --json
    """
    from sla_tracker.service.scheduler import triggers
    from sla_tracker.storage.locks import lock_holder
    from sla_tracker.storage.runs import last_sync_run
    from sla_tracker.storage.sync_state import last_runs, quarantined_records
    from sla_tracker.sync import RECONCILE

    settings = runtime.settings
    last = last_sync_run(runtime.engine)
    ran_at: dict[str, datetime | None] = {
        "sync": last["started_at"] if last else None,
        "reconcile": last_runs(runtime.engine).get(RECONCILE),
    }
    intervals = {
        "sync": settings.schedule.sync_minutes,
        "reconcile": settings.sync.reconcile_minutes,
    }
    upcoming: dict[str, datetime | None] = {}
    for name, trigger in triggers(settings).items():
        previous = ran_at.get(name)
        if previous is not None:  # interval jobs: due an interval after their last run
            upcoming[name] = max(runtime.now, previous + timedelta(minutes=intervals[name]))
        else:
            upcoming[name] = trigger.get_next_fire_time(None, runtime.now)
    waiting, reasons = quarantined_records(runtime.engine)
    report, holder = _report_state(runtime), lock_holder(runtime.engine)
    state = {
        "last_sync": None if last is None else {
            "started_at": last["started_at"], "mode": last["mode"], "outcome": last["outcome"],
            "errors": last["errors"] or None,
        },
        "next": upcoming,
        "weekly_report": report,
        "quarantined": {"count": waiting, "reasons": reasons},
        "active_instance": holder,
    }  # fmt: skip
    if as_json:
        click.echo(json.dumps(state, default=_utc, indent=2))
        return
    if last is None:
        click.echo("Last sync: never")
    else:
        outcome = last["outcome"] + (f" ({last['errors']})" if last["errors"] else "")
        click.echo(f"Last sync: {_when(runtime, last['started_at'])}, {last['mode']}, {outcome}")
    for name, at in upcoming.items():
        click.echo(f"Next {name}: {_when(runtime, at) if at else 'never'}")
    click.echo(f"Weekly report: {_report_text(runtime, report)}")
    click.echo(f"Quarantined Freshdesk records: {waiting}")
    for reason in reasons:
        click.echo(f"  {reason}")
    click.echo(f"Active instance: {holder or 'none running'}")


def _utc(value: object) -> str:
    """JSON stays UTC ISO-8601."""
    if isinstance(value, datetime):
        return format_instant(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _when(runtime: Runtime, at: datetime) -> str:
    from sla_tracker.present.when import relative

    return f"{local_time(runtime, at)} ({relative(at, runtime.now, 'en')})"


def _report_state(runtime: Runtime) -> dict[str, Any]:
    """The report the service owes now: sent, recorded but unconfirmed, or not sent at all."""
    from sla_tracker.service.scheduler import due_report_week
    from sla_tracker.storage.reports import latest_report_run

    if not runtime.settings.smtp.recipients:
        return {"state": "not_mailed"}
    due = due_report_week(runtime.engine, runtime.settings, runtime.calendar(None), runtime.now)
    if due is None:
        return {"state": "none_due"}
    week, due_at = due
    run = latest_report_run(runtime.engine, week) or {}
    state = "sent" if run.get("sent_at") else "pending" if run else "not_sent"
    keys = ("sent_at", "recorded_at", "message_id", "attempts", "last_error")
    return {"state": state, "week": week, "due_at": due_at, **{key: run.get(key) for key in keys}}


def _report_text(runtime: Runtime, report: dict[str, Any]) -> str:
    state, week = report["state"], report.get("week")
    if state == "not_mailed":
        return "not mailed (smtp.recipients is empty)"
    if state == "none_due":
        return "none due yet"
    if state == "sent":
        return f"{week} sent {local_time(runtime, report['sent_at'])} ({report['message_id']})"
    if state == "pending":
        error = f", last error: {report['last_error']}" if report["last_error"] else ""
        return (
            f"{week} PENDING: recorded {local_time(runtime, report['recorded_at'])} as "
            f"{report['message_id']}, not confirmed by the SMTP server ({report['attempts']} "
            f"failed attempt(s){error}); the service sends it again after its next sync"
        )
    return (
        f"{week} NOT SENT (due {local_time(runtime, report['due_at'])}); the service sends it "
        "after its next sync"
    )


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(runtime: Runtime) -> None:
    """Apply pending migrations (they also run automatically on first use).

    \b
    Example:
        sla-tracker db upgrade
    """
    from sla_tracker.storage.schema import upgrade

    upgrade(runtime.engine)
    click.echo(f"Database schema is up to date: {runtime.engine.url.render_as_string()}")


@click.group()
def simulator() -> None:
    """The bundled Freshdesk simulator."""


@simulator.command("serve")
@click.option(
    "--port",
    default=8765,
    type=click.IntRange(0, 65535),
    show_default=True,
    help="Loopback port (0: any free one).",
)
@click.option("--seed", default=2026, show_default=True, help="Dataset seed.")
@click.option("--tickets", default=2000, show_default=True, help="Tickets before now.")
@click.option("--api-key", default="sim-key", show_default=True, help="Accepted API key.")
@click.option("--credits-per-minute", type=int, help="Rate limit (default: none).")
@click.option("--webhook-url", help="POST each ticket change here, as Freshdesk automations do.")
@click.option(
    "--webhook-secret",
    envvar="SLA_TRACKER_SIM_WEBHOOK_SECRET",
    help="Sent as X-Sla-Tracker-Secret (or $SLA_TRACKER_SIM_WEBHOOK_SECRET).",
)
@click.pass_obj
def simulator_serve(
    runtime: Runtime,
    port: int,
    seed: int,
    tickets: int,
    api_key: str,
    credits_per_minute: int | None,
    webhook_url: str | None,
    webhook_secret: str | None,
) -> None:
    """Serve a seeded Freshdesk account on 127.0.0.1 until interrupted.

    \b
    Example:
        sla-tracker simulator serve --port 8765 --tickets 5000
        sla-tracker simulator serve --webhook-url http://127.0.0.1:8080/hooks/freshdesk \\
            --webhook-secret "$SECRET"
    """
    from sla_tracker.helpdesk.freshdesk.simulator.server import SimulatorHTTPServer, make_state

    try:
        state = make_state(seed=seed, tickets=tickets, now=runtime.now, api_key=api_key,
                           credits_per_minute=credits_per_minute, webhook_url=webhook_url,
                           webhook_secret=webhook_secret)  # fmt: skip
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    server = SimulatorHTTPServer(state, port)
    click.echo(f"Freshdesk simulator on {server.base_url} (API key {api_key!r}); Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
        if state.webhook is not None:
            state.webhook.close()
