"""Freshdesk's webhook: a fast path beside polling, never instead of it.

A delivery says "ticket T had status S at instant U". It is kept at once as a transition of
kind ``webhook`` (``storage/web.py``: deduplicated, order-free) and asks for an incremental
sync, which polling's own rules then apply to (snapshots in any order, the watermark).
Deliveries are coalesced: every request that arrives while a sync waits or runs is served by
the next single sync, so a burst of a thousand costs a couple of syncs, not a thousand calls
against the account's API limit (which Freshdesk's webhooks already count against).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sla_tracker.core.instants import parse_instant
from sla_tracker.helpdesk.freshdesk.vocabulary import CLOSED, OPEN, PENDING, RESOLVED
from sla_tracker.judgments import Judgments
from sla_tracker.storage.engine import SyncBusyError
from sla_tracker.storage.tables import BIGINT
from sla_tracker.storage.web import status_ids_by_name
from sla_tracker.sync import sync_once

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.helpdesk import HelpdeskClient
    from sla_tracker.storage.engine import Engine

SECRET_HEADER = "X-Sla-Tracker-Secret"  # noqa: S105 - a header name, not its value
CLOCK_SKEW = timedelta(minutes=5)
BUILT_IN_STATUSES = {"open": OPEN, "pending": PENDING, "resolved": RESOLVED, "closed": CLOSED}
log = logging.getLogger(__name__)


class BadDelivery(ValueError):
    """The payload cannot be used; the message says which field and what is expected."""


@dataclass(frozen=True)
class Delivery:
    ticket_id: int
    status: int
    updated_at: datetime


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time: the time taken tells nothing about how much of the secret matched."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def parse_delivery(payload: Any, engine: Engine, *, now: datetime) -> Delivery:
    """``{"ticket_id": int, "status": id or name, "updated_at": ISO-8601}``; other keys ignored.

    A status name is looked up among the account's statuses (custom ones included, from the
    cached ticket fields), then Freshdesk's built-in English names. An instant later than
    ``now`` (beyond a few minutes of clock skew) is refused: no change is known before it
    happens.
    """
    if not isinstance(payload, dict):
        raise BadDelivery("expected a JSON object with ticket_id, status and updated_at")
    ticket_id = payload.get("ticket_id")
    if isinstance(ticket_id, str) and ticket_id.isdigit():  # {{ticket.id}} inside quotes
        ticket_id = int(ticket_id)
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, int) or not 0 < ticket_id < BIGINT:
        raise BadDelivery(f"ticket_id: expected a Freshdesk ticket id, got {ticket_id!r}")
    updated_at = _instant(payload)
    if updated_at > now + CLOCK_SKEW:
        raise BadDelivery(f"updated_at: {payload['updated_at']} is in the future")
    return Delivery(ticket_id, _status(payload.get("status"), engine), updated_at)


def _status(value: Any, engine: Engine) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 2 <= value < 1_000:
        return value
    if isinstance(value, str):
        known = {**BUILT_IN_STATUSES, **status_ids_by_name(engine)}
        found = known.get(value.strip().casefold())
        if found is not None:
            return found
        raise BadDelivery(
            f"status: {value!r} is not a status of this account ({', '.join(sorted(known))})"
        )
    raise BadDelivery(f"status: expected a status id or name, got {value!r}")


def _instant(payload: dict[str, Any]) -> datetime:
    value = payload.get("updated_at")
    if not isinstance(value, str):
        raise BadDelivery(f"updated_at: expected an ISO-8601 instant, got {value!r}")
    try:
        return parse_instant(value)
    except ValueError as error:
        raise BadDelivery(f"updated_at: {error}") from None


class SyncQueue:
    """One background thread running an incremental sync per burst of requests.

    ``request`` never blocks: it marks a sync as wanted. The thread waits until no request
    came for ``delay`` seconds (ten times that at most, so a steady stream still syncs),
    then syncs once; requests during the sync make one more.
    """

    def __init__(self, sync: Callable[[], None], *, delay: float) -> None:
        self._sync, self._delay = sync, delay
        self._wanted, self._stopping = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhook-sync", daemon=True)
        self.syncs = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wanted.set()
        self._thread.join(timeout=30)

    def request(self) -> None:
        self._wanted.set()

    def _quiet(self) -> bool:
        """Wait for the burst to end; False when stopping."""
        deadline = time.monotonic() + 10 * self._delay
        while self._wanted.is_set() and time.monotonic() < deadline:
            self._wanted.clear()
            if self._stopping.wait(self._delay):
                return False
        self._wanted.clear()
        return True

    def _loop(self) -> None:
        while self._wanted.wait() and not self._stopping.is_set():
            if not self._quiet():
                return
            try:
                self._sync()
            except SyncBusyError:  # the service's own sync runs: ours follows it
                self._wanted.set()
            except Exception as error:  # the next poll catches up; the receiver keeps going
                log.warning("sync after a webhook failed: %s", str(error).splitlines()[0])
            self.syncs += 1


def incremental_sync(
    client: HelpdeskClient,
    engine: Engine,
    settings: Settings,
    calendar: BusinessCalendar,
    clock: Callable[[], datetime],
    active: Callable[[], bool] = lambda: True,
) -> Callable[[], None]:
    """The sync a webhook asks for: an incremental poll (one call when little changed), then
    the judgments of what it stored, as every writing path keeps them. A standby service
    instance leaves polling to the active one (``active``)."""

    def run() -> None:
        if not active():
            return
        now = clock()
        summary = sync_once(client, engine, settings, now=now)
        Judgments(engine, settings, calendar, now).refresh()
        log.info("sync after webhook: %s", summary.summary())

    return run
