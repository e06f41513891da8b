"""``/metrics``: what an operator's Prometheus scrapes, read from the database at each scrape.

Counters come from the store's own records (sync runs, alert events), so they survive a
restart and agree with ``sla-tracker status``; gauges are the open tickets judged now (kept
judgments: a scrape costs what the open tickets cost, not the whole history).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from sla_tracker.money import default_horizon
from sla_tracker.storage.judgments import Filters
from sla_tracker.storage.web import last_successful_sync, operator_counts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from prometheus_client.registry import Collector

    from sla_tracker.web.queries import Reader


class TrackerCollector:
    """Builds every metric at scrape time (prometheus-client's custom collector protocol)."""

    def __init__(
        self, reader: Reader, clock: Callable[[], datetime], deliveries: Counter[str]
    ) -> None:
        self.reader, self.clock, self.deliveries = reader, clock, deliveries

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        now = self.clock()
        engine = self.reader.engine
        last = last_successful_sync(engine)
        age = GaugeMetricFamily(
            "sla_tracker_last_sync_age_seconds",
            "Seconds since the start of the last successful sync (absent before the first).",
        )
        if last is not None:
            age.add_metric([], (now - last["started_at"]).total_seconds())
        yield age
        counts = operator_counts(engine)
        syncs = CounterMetricFamily(
            "sla_tracker_syncs", "Sync runs by outcome.", labels=["outcome"]
        )
        for outcome in ("ok", "failed"):
            syncs.add_metric([outcome], counts[f"syncs_{outcome}"])
        yield syncs
        yield CounterMetricFamily(
            "sla_tracker_api_calls", "Freshdesk API calls made by syncs.", value=counts["api_calls"]
        )
        yield CounterMetricFamily(
            "sla_tracker_api_credits", "Freshdesk API credits used by syncs.",
            value=counts["api_credits"],
        )  # fmt: skip
        sent = CounterMetricFamily(
            "sla_tracker_alerts_sent", "Alerts accepted by their server.", labels=["channel"]
        )
        sent.add_metric(["email"], counts["alerts_email_sent"])
        sent.add_metric(["webhook"], counts["alerts_webhook_sent"])
        yield sent
        yield CounterMetricFamily(
            "sla_tracker_alerts_failed", "Alerts whose sending failed at least once.",
            value=counts["alerts_failing"],
        )  # fmt: skip
        yield GaugeMetricFamily(
            "sla_tracker_quarantined_records", "Freshdesk records waiting in quarantine.",
            value=counts["quarantined"],
        )  # fmt: skip
        webhooks = CounterMetricFamily(
            "sla_tracker_webhook_deliveries", "Webhook deliveries by outcome (this process).",
            labels=["outcome"],
        )  # fmt: skip
        for outcome, number in sorted(self.deliveries.items()):
            webhooks.add_metric([outcome], number)
        yield webhooks
        breaches = CounterMetricFamily(
            "sla_tracker_breaches", "Breaches the service recorded (their alert events), by clock.",
            labels=["clock"],
        )  # fmt: skip
        for name in ("response", "restoration"):
            breaches.add_metric([name], counts[f"breaches_{name}"])
        yield breaches
        yield from self._judged(now)

    def _judged(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        """The open tickets' clocks, and the money at risk, from the kept judgments."""
        reader = self.reader
        clocks: Counter[tuple[str, str, str]] = Counter()
        for report in reader.judgments(now).tickets(Filters(only_open=True)):
            severity = str(report.classification.severity.value)
            for clock in (report.response, report.restoration):
                clocks[clock.name, str(clock.state), severity] += 1
        tickets = GaugeMetricFamily(
            "sla_tracker_open_clocks", "Clocks of open tickets by clock, state and severity.",
            labels=["clock", "state", "severity"],
        )  # fmt: skip
        for labels, number in sorted(clocks.items()):
            tickets.add_metric(list(labels), number)
        yield tickets
        at_risk: dict[str, Decimal] = {}
        for item in reader.exposure(now=now, until=default_horizon(now)):
            if item.amount is not None and item.currency is not None:
                at_risk[item.currency] = at_risk.get(item.currency, Decimal(0)) + item.amount
        money = GaugeMetricFamily(
            "sla_tracker_money_at_risk",
            "Indemnities due if every unrestored GTR ticket stays so for 7 more days.",
            labels=["currency"],
        )
        for currency, amount in sorted(at_risk.items()):
            money.add_metric([currency], float(amount))
        yield money


def metrics_text(collector: Collector) -> bytes:
    """The Prometheus text exposition of one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
