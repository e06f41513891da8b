"""Delivery at least once, and never as two different messages.

An alert's e-mail and webhook and the weekly report are rows recorded before anything is
sent. The first try records the row's key (an e-mail's Message-ID, a webhook's idempotency
key); the row is marked sent only once the receiver accepted it. A process killed between
the two leaves the row unsent, so the next run sends it again with the same key: the
receiver may see it twice and can drop the copy, but it is never lost and never sent under
a new key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sla_tracker.storage.deliveries import claim_key, count_failure, mark_sent

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sla_tracker.storage.deliveries import Outbox
    from sla_tracker.storage.engine import Engine


def deliver(
    engine: Engine,
    outbox: Outbox,
    row_id: int,
    *,
    new_key: Callable[[], str],
    send: Callable[[str], None],
    now: datetime,
) -> str:
    """Send row ``row_id`` under its recorded key (recorded now if it has none); returns the key.

    A failure is counted on the row (``attempts``, ``last_error``) and raised again.
    """
    key = claim_key(engine, outbox, row_id, new_key())
    try:
        send(key)
    except Exception as error:
        count_failure(engine, outbox, row_id, str(error))
        raise
    mark_sent(engine, outbox, row_id, now)
    return key
