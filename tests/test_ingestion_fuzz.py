"""One bad record never stops ingestion or breaks reads (issue 11, item 1).

Hypothesis builds Freshdesk list pages that mix valid tickets with broken ones (a null
status, a missing created_at, wrong JSON types, ids past 64 bits, year 1, …), served over
real HTTP on loopback; the sync must store every valid ticket, quarantine every broken one
with its reason, move its watermark past them, and every read must work afterwards.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sla_tracker.calendar_files import load_named_calendar
from sla_tracker.config import Settings
from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
from sla_tracker.judge import evaluate_tickets
from sla_tracker.storage.schema import open_store
from sla_tracker.storage.tables import (
    QuarantinedRecord,
    SyncState,
    Ticket,
    table_of,
)
from sla_tracker.sync import sync_once
from tests.scenarios import empty_store

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SETTINGS = Settings.model_validate({"sync": {"start_date": "2026-01-01"}})
CALENDAR = load_named_calendar("fr-support", SETTINGS)
CORRUPTIONS: dict[str, Any] = {
    "null status": ("status", None),
    "no created_at": ("created_at", ...),
    "tags a number": ("tags", 5),
    "custom_fields a list": ("custom_fields", [1, 2]),
    "custom_fields a text": ("custom_fields", "x"),
    "subject an object": ("subject", {"text": "Facture"}),
    "year 1": ("created_at", "0001-01-01T00:00:00Z"),
    "year 9999": ("created_at", "9999-12-31T23:59:59Z"),
    "updated_at garbage": ("updated_at", "hier"),
    "priority a text": ("priority", "urgent"),
    "stats a list": ("stats", [1]),
    "group_id past 64 bits": ("group_id", 2**63),
    "description an object": ("description_text", {"html": 1}),
    "created_at a number": ("created_at", 1764500000),
}


class PageServer:
    """Serves one list page (and each of its tickets by id) like Freshdesk, on loopback."""

    def __init__(self) -> None:
        self.page: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                body: Any = []
                if url.path == "/api/v2/tickets" and "filter" not in parse_qs(url.query):
                    body = server.page
                elif match := re.fullmatch(r"/api/v2/tickets/(\d+)", url.path):
                    found = [r for r in server.page if r.get("id") == int(match.group(1))]
                    if not found:
                        self.send_response(404)
                        self.end_headers()
                        return
                    body = found[-1]
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def stub() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.httpd.shutdown()


ENGINE = open_store(f"sqlite:///{Path(tempfile.mkdtemp(prefix='sla-fuzz-')) / 'fuzz.db'}")


def _valid(ticket_id: int, minute: int, status: int) -> dict[str, Any]:
    at = f"2026-11-30T{8 + minute // 60:02d}:{minute % 60:02d}:00Z"
    return {
        "id": ticket_id, "subject": "Impossible de créer une facture", "status": status,
        "priority": 4, "source": 1, "type": "Incident", "tags": ["gtr"], "custom_fields": {},
        "company_id": 1, "group_id": 5, "created_at": "2026-11-30T08:00:00Z", "updated_at": at,
        "description_text": "Facture", "stats": {"first_responded_at": None},
    }  # fmt: skip


valid_records = st.builds(_valid, st.integers(1, 10_000), st.integers(0, 200),
                          st.sampled_from([2, 3, 4, 5]))  # fmt: skip


@st.composite
def broken_records(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    record = _valid(draw(st.integers(20_000, 30_000)), draw(st.integers(0, 200)), 2)
    name = draw(st.sampled_from(sorted(CORRUPTIONS)))
    key, value = CORRUPTIONS[name]
    if value is ...:
        del record[key]
    else:
        record[key] = value
    return record, name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    st.lists(valid_records, max_size=12, unique_by=lambda r: r["id"]),
    st.lists(broken_records(), min_size=1, max_size=6, unique_by=lambda b: b[0]["id"]),
    st.randoms(use_true_random=False),
)
def test_a_page_of_good_and_bad_records_stores_the_good_and_quarantines_the_bad(
    stub: PageServer,
    good: list[dict[str, Any]],
    bad: list[tuple[dict[str, Any], str]],
    shuffle: Any,
) -> None:
    empty_store(ENGINE)
    page = good + [record for record, _ in bad]
    shuffle.shuffle(page)
    stub.page = sorted(page, key=lambda r: str(r.get("updated_at")))
    client = FreshdeskClient(stub.url, "fuzz-key", sleep=lambda _s: None)
    report = sync_once(client, ENGINE, SETTINGS, now=NOW)  # never raises
    assert report.quarantined == len(bad)
    with ENGINE.connect() as connection:
        stored = set(connection.execute(select(table_of(Ticket).c.id)).scalars())
        q = table_of(QuarantinedRecord)
        waiting = connection.execute(select(q.c.ticket_id, q.c.reason)).all()
        watermark = connection.execute(
            select(table_of(SyncState).c.watermark).where(
                table_of(SyncState).c.pass_name == "tickets"  # noqa: S105
            )
        ).scalar()
    assert stored == {record["id"] for record in good}
    assert sorted(ticket_id for ticket_id, _ in waiting) == sorted(r["id"] for r, _ in bad)
    assert all(reason.startswith(f"ticket {ticket_id}") for ticket_id, reason in waiting)
    readable = [r["updated_at"] for r in page if r.get("updated_at", "").startswith("2026")]
    newest = max((datetime.fromisoformat(at) for at in readable), default=None)
    assert watermark == newest  # moved past the broken records too
    reports = evaluate_tickets(ENGINE, SETTINGS, CALENDAR, now=NOW)  # reads still work
    assert {r.id for r in reports} == stored


def test_a_quarantined_ticket_is_released_when_a_valid_version_arrives(stub: PageServer) -> None:
    empty_store(ENGINE)
    broken = _valid(7, 10, 2)
    broken["status"] = None
    stub.page = [broken]
    client = FreshdeskClient(stub.url, "fuzz-key", sleep=lambda _s: None)
    assert sync_once(client, ENGINE, SETTINGS, now=NOW).quarantined == 1
    stub.page = [_valid(7, 20, 3)]
    assert sync_once(client, ENGINE, SETTINGS, now=NOW.replace(hour=13)).quarantined == 0
    with ENGINE.connect() as connection:
        q = table_of(QuarantinedRecord)
        [(resolved, attempts)] = connection.execute(select(q.c.resolved_at, q.c.attempts)).all()
        status = connection.execute(select(table_of(Ticket).c.status)).scalar()
    assert resolved is not None and attempts >= 2 and status == 3
