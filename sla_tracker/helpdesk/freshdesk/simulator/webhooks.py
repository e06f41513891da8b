"""The simulator's webhooks: what a Freshdesk automation rule would POST on a ticket update.

Contract (the receiver is ``POST /hooks/freshdesk`` of the web board): ``POST <url>`` with
the header ``X-Sla-Tracker-Secret: <secret>`` and the JSON body
``{"ticket_id": <int>, "status": <int>, "updated_at": "<ISO-8601 UTC, Z>"}``.

Deliveries leave from one background thread, in the order the changes happened, so that a
slow or dead receiver never blocks the simulated API; a failure is logged (never with the
secret) and the delivery dropped, as Freshdesk drops them: polling stays the source of truth.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import requests

SECRET_HEADER = "X-Sla-Tracker-Secret"  # noqa: S105 -- a header name, not a secret
LOG = logging.getLogger("sla_tracker.helpdesk.freshdesk.simulator.webhooks")


@dataclass
class WebhookSender:
    """Queues deliveries and posts them from a daemon thread; ``close`` drains the queue."""

    url: str
    secret: str = field(repr=False)
    timeout_seconds: float = 5.0
    sent: int = 0
    failed: int = 0
    _queue: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def send(self, payload: dict[str, Any]) -> None:
        """Queue one delivery; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._deliver, name="sim-webhooks", daemon=True)
            self._thread.start()
        self._queue.put(payload)

    def wait(self) -> None:
        """Block until every queued delivery has been attempted (tests, demos)."""
        self._queue.join()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=self.timeout_seconds + 1)
            self._thread = None

    def _deliver(self) -> None:
        with requests.Session() as session:
            session.headers[SECRET_HEADER] = self.secret
            while (payload := self._queue.get()) is not None:
                try:
                    response = session.post(self.url, json=payload, timeout=self.timeout_seconds)
                    if response.status_code >= 300:
                        raise requests.HTTPError(f"answered {response.status_code}")
                    self.sent += 1
                except requests.RequestException as error:
                    self.failed += 1
                    reason = f"{type(error).__name__}: {error}"[:200]
                    LOG.warning("webhook for ticket %s to %s failed: %s", payload["ticket_id"],
                                self.url, reason)  # fmt: skip
                finally:
                    self._queue.task_done()
            self._queue.task_done()
