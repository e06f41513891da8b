"""The background service: APScheduler 3 wiring, one structured log line per job run.

Jobs: sync every ``schedule.sync_minutes`` followed by evaluation and alerts (the sync's own
passes refresh deleted/spam tickets, companies and ticket fields when they are due),
reconciliation every ``sync.reconcile_minutes``, and the weekly report on a cron trigger.
Each job reads the current instant when it starts and passes it down; a failing job logs
one line with the reason and the next run retries.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sla_tracker.alerts import due_events, record_events
from sla_tracker.delivery.alerts import send_pending
from sla_tracker.judgments import Judgments
from sla_tracker.present.emails import render_weekly_report
from sla_tracker.reports.weekly import (
    ReportError,
    build_weekly_report,
    previous_week,
    send_weekly_report,
    week_bounds,
)
from sla_tracker.storage.engine import LockLostError
from sla_tracker.storage.judgments import Filters
from sla_tracker.storage.reports import latest_report_run
from sla_tracker.storage.runs import synced_before
from sla_tracker.sync import sync_once

if TYPE_CHECKING:
    from collections.abc import Callable

    from apscheduler.triggers.base import BaseTrigger

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
    from sla_tracker.present.templates import RenderedEmail
    from sla_tracker.storage.engine import Engine
    from sla_tracker.storage.locks import HeldLock

LOG = logging.getLogger("sla_tracker.service")
# Alerts are due only on clocks still counting (at risk, or running past their target): the
# ticket is open, which the kept judgments' index on open tickets finds at once.
DUE = Filters(only_open=True, urgent=True)
VERIFY_SAMPLE = 1_000  # tickets recomputed from history once a day to check kept judgments


@dataclass
class Service:
    """What the jobs work with; ``clock`` gives the current instant (injectable in tests);
    ``lock``, the service lock, is checked before each job."""

    settings: Settings
    engine: Engine
    calendar: BusinessCalendar
    client: FreshdeskClient
    clock: Callable[[], datetime]
    _report_lock: threading.Lock = field(default_factory=threading.Lock)
    lock: HeldLock | None = None

    def sync_and_alert(self, now: datetime) -> dict[str, Any]:
        report = sync_once(self.client, self.engine, self.settings, now=now)
        alerts = self.alert(now)
        self.catch_up_report(now)
        counts = {"new": report.tickets_new, "updated": report.tickets_updated}
        return {
            **counts,
            "transitions": report.transitions,
            "api_calls": report.api_calls,
            **alerts,
        }

    def alert(self, now: datetime) -> dict[str, Any]:
        """Keep the judgments of what the poll changed, then alert on the tickets at risk or
        breached, which the kept judgments select in SQL: the cost follows the changes."""
        judgments = Judgments(self.engine, self.settings, self.calendar, now)
        refreshed = judgments.refresh(progress=_log_progress)
        reports = list(judgments.tickets(DUE))
        recorded = record_events(
            self.engine, due_events(reports, self.settings.alerts.thresholds), now=now
        )
        sent, failed = send_pending(self.engine, self.settings, now=now)
        return {"judged": refreshed, "alerts_new": recorded, "alerts_sent": sent,
                "alerts_failed": failed}  # fmt: skip

    def reconcile(self, now: datetime) -> dict[str, Any]:
        report = sync_once(self.client, self.engine, self.settings, now=now, reconcile=True)
        return {
            "gone": report.gone,
            "updated": report.tickets_updated,
            "api_calls": report.api_calls,
        }

    def verify(self, now: datetime) -> dict[str, Any]:
        """Daily: recompute a sample of tickets from history and compare with their kept
        judgments; a difference is logged as an error (it would be a bug)."""
        differences = Judgments(self.engine, self.settings, self.calendar, now).verify(
            VERIFY_SAMPLE
        )
        for line in differences[:20]:
            LOG.error("kept judgment differs from history: %s", line)
        return {"sample": VERIFY_SAMPLE, "differences": len(differences)}

    def weekly_report(self, now: datetime) -> dict[str, Any]:
        """Send the due week's report unless it was sent; an unconfirmed one is sent again."""
        with self._report_lock:  # the cron job and a sync's catch-up may meet
            due = due_report_week(self.engine, self.settings, self.calendar, now)
            if due is None:
                raise ReportError("no report is due yet")
            week = due[0]

            def render() -> RenderedEmail:
                built = build_weekly_report(
                    self.engine, self.settings, self.calendar, week=week, now=now
                )
                language = self.settings.report.language
                return render_weekly_report(built, language=language, calendar=self.calendar)

            sent = send_weekly_report(
                self.engine, self.settings, render, week=week, now=now, force=False
            )
        return {"week": week, "message_id": sent.message_id, "resent": sent.resent}

    def catch_up_report(self, now: datetime) -> None:
        """After each sync: a report missed (downtime, a crash, an SMTP outage) goes out now."""
        if not self.settings.smtp.recipients:
            return
        due = due_report_week(self.engine, self.settings, self.calendar, now)
        if due is None:
            return
        run = latest_report_run(self.engine, due[0])
        if run is None or run["sent_at"] is None:
            self.run_job("weekly_report", self.weekly_report)

    def run_job(self, name: str, job: Callable[[datetime], dict[str, Any]]) -> None:
        """One structured line per run; an exception is logged, never raised to the scheduler."""
        started = time.monotonic()
        try:
            if self.lock is not None:  # lost, another instance may be running this very job
                self.lock.check()
            counts = job(self.clock())
        except ReportError as error:  # e.g. already sent: not a failure of the service
            LOG.info(
                "job=%s outcome=skipped duration=%.2fs reason=%s",
                name,
                time.monotonic() - started,
                error,
            )
            return
        except Exception as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            LOG.warning(
                "job=%s outcome=%s duration=%.2fs reason=%s",
                name,
                "lost" if isinstance(error, LockLostError) else "error",
                time.monotonic() - started,
                reason,
            )
            return
        details = " ".join(f"{key}={value}" for key, value in counts.items())
        LOG.info("job=%s outcome=ok duration=%.2fs %s", name, time.monotonic() - started, details)


def due_report_week(
    engine: Engine, settings: Settings, calendar: BusinessCalendar, now: datetime
) -> tuple[str, datetime] | None:
    """The last week whose report time has passed, with that time, if a sync ran before it.

    That is the report the service owes, whether it was running at that time or not; on a
    fresh database (no sync before that time) no past week is owed.
    """
    trigger = triggers(settings)["weekly_report"]
    for weeks_back in (0, 7):
        week = previous_week(now - timedelta(days=weeks_back), calendar)
        due = trigger.get_next_fire_time(None, week_bounds(week, calendar)[1])
        if due is not None and due <= now:
            break
    else:
        return None
    return (week, due) if synced_before(engine, due) else None


def _log_progress(done: int, total: int) -> None:
    """A refresh of many tickets (the first poll, other rules) says how far it is."""
    if total > 5_000:
        LOG.info("refreshing judgments: %d of %d tickets", done, total)


def triggers(settings: Settings) -> dict[str, BaseTrigger]:
    """The jobs' triggers, in the schedule's time zone (also read by ``sla-tracker status``)."""
    zone = settings.schedule.timezone
    hour, minute = (int(part) for part in settings.schedule.weekly_report_time.split(":"))
    return {
        "sync": IntervalTrigger(minutes=settings.schedule.sync_minutes, timezone=zone),
        "reconcile": IntervalTrigger(minutes=settings.sync.reconcile_minutes, timezone=zone),
        "weekly_report": CronTrigger(
            day_of_week=settings.schedule.weekly_report_day, hour=hour, minute=minute, timezone=zone
        ),
        "verify": CronTrigger(hour=4, minute=30, timezone=zone),
    }


def build_scheduler(service: Service) -> BackgroundScheduler:
    """Four jobs, each at most one at a time, missed runs coalesced, with a grace period.

    In the background: the service's main thread watches the service lock meanwhile."""
    settings = service.settings
    scheduler = BackgroundScheduler(timezone=settings.schedule.timezone)
    once = {
        "max_instances": 1,
        "coalesce": True,
        "misfire_grace_time": settings.schedule.misfire_grace_seconds,
    }
    work = {
        "sync": service.sync_and_alert,
        "reconcile": service.reconcile,
        "weekly_report": service.weekly_report,
        "verify": service.verify,
    }
    for name, trigger in triggers(settings).items():
        # At once by the scheduler's own clock (an injected one may lie ahead of it): the
        # first sync also sends the alerts and a weekly report missed while the service was down.
        first = {"next_run_time": datetime.now(UTC)} if name == "sync" else {}
        scheduler.add_job(
            service.run_job, trigger, args=(name, work[name]), id=name, name=name, **once, **first
        )
    return scheduler
