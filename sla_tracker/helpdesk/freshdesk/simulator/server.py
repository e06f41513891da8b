"""A Freshdesk API v2 simulator on loopback: the shapes, limits and failures of the real one.

Implements what the tracker uses (freshdesk-api.md §§1–8): the ticket list with its filters,
ordering, ``include`` credits, ``per_page`` ≤ 100, the page-300 wall with its exact 400 body,
``link`` headers and the 30-day default window; ticket view; conversations; companies;
ticket_fields; rate-limit headers and 429 with ``Retry-After``; and injectable faults.
Admin endpoints under ``/_sim/`` move the clock and change tickets so that a test or a demo
can make the account evolve between two polls; with a webhook configured, every change is
also POSTed to it, as a Freshdesk automation rule would (``webhooks.py``).
"""

from __future__ import annotations

import base64
import json
import math
import re
import socket
import threading
import time
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sla_tracker.core.instants import parse_instant
from sla_tracker.helpdesk.freshdesk.simulator.dataset import (
    GROUPS,
    STAT_KEYS,
    Dataset,
    LazyTickets,
    SimTicket,
    UpdatedIndex,
    iso,
)
from sla_tracker.helpdesk.freshdesk.simulator.webhooks import WebhookSender

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

MAX_PAGE, MAX_PER_PAGE, DEFAULT_PER_PAGE = 300, 100, 30
DEFAULT_WINDOW = 30 * 86400
PAGE_LIMIT_BODY = {
    "description": "Validation failed",
    "errors": [
        {
            "field": "page",
            "message": "You cannot access tickets beyond the 300th page. Please provide a "
            "smaller page number.",
            "code": "invalid_value",
        }
    ],
}
LIST_INCLUDES = {"stats", "requester", "description"}
VIEW_INCLUDES = {"stats", "requester", "company", "conversations"}
TICKET_VIEW = re.compile(r"^/api/v2/tickets/(\d+)$")
CONVERSATIONS = re.compile(r"^/api/v2/tickets/(\d+)/conversations$")
ADMIN_TICKET = re.compile(r"^/_sim/tickets/(\d+)$")
# Whole responses whose body breaks on the way (the connection is closed after each).
BROKEN_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
BROKEN_BODIES = {
    "truncated": BROKEN_HEAD + b'Content-Length: 100\r\n\r\n[{"id": 1',
    "bad_chunks": BROKEN_HEAD + b'Transfer-Encoding: chunked\r\n\r\n5\r\n[{"id\r\nzz\r\n',
    "bad_gzip": BROKEN_HEAD + b"Content-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzip at!",
}


@dataclass
class Fault:
    """Make ``times`` requests whose path starts with ``path`` fail, after ``skip`` good ones.

    kind: ``status`` (answer ``status``), ``slow`` (wait ``seconds`` first), ``garbage``
    (a 200 whose body is not JSON), ``drop`` (close the connection without answering),
    ``truncated`` (a ``Content-Length`` longer than the body, then close), ``bad_chunks``
    (a chunked body whose chunk size is not hex), ``bad_gzip`` (``Content-Encoding: gzip``
    on a body that is not gzip), ``redirect`` (a 302 to ``location``, else to itself).
    """

    kind: str
    path: str = "/api/v2/"
    times: int = 1
    skip: int = 0
    status: int = 500
    seconds: float = 0.0
    retry_after: int = 1
    location: str = ""


@dataclass
class SimulatorState:
    """The account, its clock, the rate-limit budget and the faults to inject."""

    dataset: Dataset
    now: int
    api_key: str = "sim-key"
    credits_per_minute: int | None = None
    faults: list[Fault] = field(default_factory=list)
    after_request: list[Callable[[SimulatorState, str], None]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _window_start: float = 0.0
    _window_used: int = 0
    _index_key: tuple[int, int] | None = None
    _index: UpdatedIndex = field(default_factory=list)
    version: int = 0
    flagged: set[int] = field(default_factory=set)  # tickets marked deleted or spam
    webhook: WebhookSender | None = None  # told of every ticket change, when set

    def advance(self, seconds: int) -> None:
        self.set_clock(self.now + seconds)

    def set_clock(self, now: int) -> None:
        """Move the clock; the tickets it changes (events and creations on the way) are
        announced by webhook, oldest update first."""
        with self.lock:
            before, self.now = self.now, now
            if self.webhook is not None and now > before:
                tickets = self.dataset.tickets
                candidates = (
                    tickets.may_change_after(before)
                    if isinstance(tickets, LazyTickets)
                    else tickets.values()
                )
                moved = [t for t in candidates
                         if self.visible(t) and t.updated_at(now) > before]  # fmt: skip
                for ticket in sorted(moved, key=lambda t: (t.updated_at(now), t.id)):
                    self._announce(ticket)

    def change(self, ticket_id: int, kind: str, value: int = 0) -> None:
        """Record an event on a ticket at the current clock (status, replies, touch)."""
        with self.lock:
            ticket = self.dataset.tickets[ticket_id]
            ticket.add_event(self.now, kind, value)
            self.dataset.tickets[ticket_id] = ticket  # a generated ticket is kept from now on
            self.version += 1
            self._announce(ticket)

    def mark(self, ticket_id: int, **flags: bool) -> None:
        with self.lock:
            ticket = self.dataset.tickets[ticket_id]
            for name, value in flags.items():
                setattr(ticket, name, value)
            if not flags.get("purged"):
                ticket.add_event(self.now, "touch")
            self.dataset.tickets[ticket_id] = ticket
            if ticket.deleted or ticket.spam:
                self.flagged.add(ticket_id)
            else:
                self.flagged.discard(ticket_id)
            self.version += 1
            self._announce(ticket)

    def _announce(self, ticket: SimTicket) -> None:
        if self.webhook is not None and self.visible(ticket):
            self.webhook.send({
                "ticket_id": ticket.id,
                "status": ticket.state(self.now)["status"],
                "updated_at": iso(ticket.updated_at(self.now)),
            })  # fmt: skip

    def visible(self, ticket: SimTicket) -> bool:
        return not ticket.purged and ticket.created_at <= self.now

    def updated_index(self) -> UpdatedIndex:
        """(updated_at, id) of every ticket that exists now, sorted; cached per clock."""
        key = (self.now, self.version)
        if self._index_key != key:
            tickets = self.dataset.tickets
            if isinstance(tickets, LazyTickets):
                self._index = tickets.updated_index(self.now, self.visible)
            else:
                self._index = sorted(
                    (ticket.updated_at(self.now), ticket.id)
                    for ticket in tickets.values()
                    if self.visible(ticket)
                )
            self._index_key = key
        return self._index

    def charge(self, credits: int) -> tuple[bool, dict[str, str], int]:
        """Debit the per-minute budget: (allowed, rate headers, seconds until the window ends)."""
        with self.lock:
            wall = time.monotonic()
            if wall - self._window_start >= 60:
                self._window_start, self._window_used = wall, 0
            total = self.credits_per_minute or 1_000_000
            allowed = self._window_used + credits <= total
            if allowed:
                self._window_used += credits
            headers = {
                "X-RateLimit-Total": str(total),
                "X-RateLimit-Remaining": str(max(0, total - self._window_used)),
                "X-RateLimit-Used-CurrentRequest": str(credits if allowed else 0),
            }
            return allowed, headers, max(1, math.ceil(self._window_start + 60 - wall))

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and path.startswith(fault.path):
                    if fault.skip > 0:  # this request gets through untouched
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None


def render_ticket(state: SimulatorState, ticket: SimTicket, includes: set[str]) -> dict[str, Any]:
    """A ticket in Freshdesk's shape at the simulator's current instant."""
    now = state.now
    current = ticket.state(now)
    record: dict[str, Any] = {
        "cc_emails": [],
        "fwd_emails": [],
        "reply_cc_emails": [],
        "ticket_cc_emails": [],
        "fr_escalated": current["fr_escalated"],
        "spam": ticket.spam,
        "email_config_id": 103000041290,
        "group_id": ticket.group_id,
        "priority": ticket.priority,
        "requester_id": ticket.requester_id,
        "responder_id": ticket.responder_id if current["stats"]["first_responded_at"] else None,
        "source": ticket.source,
        "company_id": ticket.company_id,
        "status": current["status"],
        "subject": ticket.subject,
        "association_type": None,
        "support_email": "support@koban.example",
        "to_emails": ["support@koban.example"],
        "product_id": None,
        "id": ticket.id,
        "type": ticket.type,
        "due_by": iso(current["due_by"]),
        "fr_due_by": iso(current["fr_due_by"]),
        "is_escalated": current["is_escalated"],
        "custom_fields": dict(ticket.custom_fields),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at(now)),
        "associated_tickets_count": None,
        "tags": list(ticket.tags),
        "nr_due_by": None,
        "nr_escalated": False,
    }
    if ticket.deleted:
        record["deleted"] = True
    if "stats" in includes:
        record["stats"] = {key: iso(current["stats"][key]) for key in STAT_KEYS}
    if "description" in includes:
        record["description"] = f"<div>{ticket.description}</div>"
        record["description_text"] = ticket.description
    if "requester" in includes:
        record["requester"] = {
            "id": ticket.requester_id,
            "name": "Client",
            "email": f"contact{ticket.requester_id % 5000}@client.example",
            "mobile": None,
            "phone": None,
        }
    return record


def conversations(state: SimulatorState, ticket: SimTicket) -> list[dict[str, Any]]:
    entries = []
    for number, (at, kind, _) in enumerate(ticket.events):
        if at > state.now or kind not in ("agent_reply", "customer_reply"):
            continue
        incoming = kind == "customer_reply"
        entries.append(
            {
                "id": ticket.id * 1000 + number,
                "ticket_id": ticket.id,
                "user_id": ticket.requester_id if incoming else ticket.responder_id,
                "incoming": incoming,
                "private": False,
                "source": 0,
                "body_text": "Réponse du client" if incoming else "Réponse du support",
                "created_at": iso(at),
                "updated_at": iso(at),
            }
        )
    return entries


def directory_groups() -> list[dict[str, Any]]:
    """The account's groups in Freshdesk's shape (``GET /api/v2/groups``)."""
    return [
        {
            "id": group_id,
            "name": name,
            "description": None,
            "escalate_to": None,
            "unassigned_for": None,
            "business_hour_id": None,
            "group_type": "support_agent_group",
            "agent_ids": [agent_id for agent_id, _ in agents],
            "auto_ticket_assign": False,
            "created_at": "2024-01-08T09:00:00Z",
            "updated_at": "2025-06-02T14:30:00Z",
        }
        for group_id, name, agents in GROUPS
    ]


def directory_agents() -> list[dict[str, Any]]:
    """The account's agents in Freshdesk's shape (``GET /api/v2/agents``): the person's
    name is under ``contact``."""
    return [
        {
            "id": agent_id,
            "available": True,
            "occasional": False,
            "ticket_scope": 1,
            "type": "support_agent",
            "group_ids": [group_id],
            "contact": {
                "name": name,
                "email": unicodedata.normalize("NFKD", name.lower().replace(" ", "."))
                .encode("ascii", "ignore")
                .decode()
                + "@koban.example",
                "active": True,
                "job_title": None,
                "language": "fr",
                "time_zone": "Paris",
            },
            "created_at": "2024-01-08T09:00:00Z",
            "updated_at": "2025-06-02T14:30:00Z",
        }
        for group_id, _, agents in GROUPS
        for agent_id, name in agents
    ]


class SimulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every response on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the simulator serves tests and demos."""

    # -- plumbing ------------------------------------------------------------------------

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Freshdesk-Api-Version", "latest=v2; requested=v2")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{self.server.state.api_key}:X".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def do_GET(self) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        with state.lock:
            state.requests.append(self.path)
        fault = state.take_fault(url.path)
        if fault is not None and self._inject(fault):
            return
        if url.path.startswith("/_sim/"):
            self._send(200, {"now": iso(state.now), "requests": len(state.requests)})
            return
        if not self._authorised():
            self._send(
                401,
                {
                    "code": "invalid_credentials",
                    "message": "You have to be logged in to perform this action.",
                },
            )
            return
        with state.lock:
            status, body, headers, credits = self._route(url.path, params)
            allowed, rate_headers, retry_after = state.charge(credits)
        if not allowed:
            self._send(429, {"message": "You have exceeded the limit of requests per minute"},
                       {**rate_headers, "Retry-After": str(retry_after)})  # fmt: skip
            return
        self._send(status, body, {**rate_headers, **headers})
        for hook in list(state.after_request):
            hook(state, self.path)

    def _inject(self, fault: Fault) -> bool:
        """Apply a fault; True when the request has been answered (or dropped)."""
        if fault.kind == "slow":
            time.sleep(fault.seconds)
            return False
        if fault.kind == "garbage":
            self._send(200, b'<html><body>502 Bad Gateway</body></html>{"truncated')
        elif fault.kind == "drop":
            self.close_connection = True
            self.connection.close()
        elif fault.kind in BROKEN_BODIES:
            self.close_connection = True
            self.wfile.write(BROKEN_BODIES[fault.kind])
        elif fault.kind == "redirect":
            self._send(302, b"", {"Location": fault.location or self.path})
        elif fault.status == 429:
            self._send(429, {"message": "rate limited"}, {"Retry-After": str(fault.retry_after)})
        else:
            self._send(fault.status, {"description": "Simulated failure", "errors": []})
        return True

    def do_POST(self) -> None:
        """Admin: ``/_sim/clock`` {advance_seconds|now}; ``/_sim/tickets/ID`` {event|flags}."""
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        path = urlsplit(self.path).path
        if path == "/_sim/clock":
            if "now" in body:
                state.set_clock(int(parse_instant(body["now"]).timestamp()))
            state.advance(int(body.get("advance_seconds", 0)))
            self._send(200, {"now": iso(state.now)})
        elif (match := ADMIN_TICKET.match(path)) and int(match.group(1)) in state.dataset.tickets:
            ticket_id = int(match.group(1))
            if "event" in body:
                state.change(ticket_id, body["event"], int(body.get("value", 0)))
            flags = {key: bool(body[key]) for key in ("deleted", "spam", "purged") if key in body}
            if flags:
                state.mark(ticket_id, **flags)
            self._send(200, {"id": ticket_id})
        else:
            self._send(404, {"code": "not_found", "message": f"no admin endpoint {path}"})

    # -- API -------------------------------------------------------------------------------

    def _route(self, path: str, params: dict[str, str]) -> tuple[int, Any, dict[str, str], int]:
        state = self.server.state
        if path == "/api/v2/tickets":
            return self._list_tickets(params)
        if match := TICKET_VIEW.match(path):
            includes = _includes(params)
            ticket = state.dataset.tickets.get(int(match.group(1)))
            if ticket is None or not state.visible(ticket) or includes - VIEW_INCLUDES:
                return 404, {"code": "not_found", "message": "Ticket not found"}, {}, 1
            return 200, render_ticket(state, ticket, includes), {}, 1 + len(includes)
        if match := CONVERSATIONS.match(path):
            ticket = state.dataset.tickets.get(int(match.group(1)))
            if ticket is None or not state.visible(ticket):
                return 404, {"code": "not_found", "message": "Ticket not found"}, {}, 1
            return self._paginate(conversations(state, ticket), params, path, 1)
        if path == "/api/v2/companies":
            since = _instant_param(params.get("updated_since"))
            companies = [
                {
                    "id": company.id,
                    "name": company.name,
                    "description": None,
                    "note": None,
                    "domains": [company.domain],
                    "custom_fields": {
                        "abonnement": company.subscription,
                        "montant_ht": company.fee,
                    },
                    "health_score": None,
                    "account_tier": "Premium" if company.fee >= 12000 else "Basic",
                    "renewal_date": None,
                    "industry": None,
                    "created_at": iso(company.created_at),
                    "updated_at": iso(company.updated_at),
                }
                for company in state.dataset.companies
                if since is None or company.updated_at >= since
            ]
            return self._paginate(companies, params, path, 1)
        if path == "/api/v2/ticket_fields":
            return 200, TICKET_FIELDS, {}, 1
        if path == "/api/v2/groups":
            return self._paginate(directory_groups(), params, path, 1)
        if path == "/api/v2/agents":
            return self._paginate(directory_agents(), params, path, 1)
        return 404, {"code": "not_found", "message": f"No route for {path}"}, {}, 1

    def _list_tickets(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str], int]:
        state = self.server.state
        includes = _includes(params)
        if includes - LIST_INCLUDES:
            return _invalid(
                "include", f"It should be one of these values: '{','.join(sorted(LIST_INCLUDES))}'"
            )
        per_page = params.get("per_page", str(DEFAULT_PER_PAGE))
        page = params.get("page", "1")
        if not per_page.isdigit() or not 1 <= int(per_page) <= MAX_PER_PAGE:
            return _invalid("per_page", "It should be a Positive Number less than or equal to 100")
        if not page.isdigit() or int(page) < 1:
            return _invalid("page", "It should be a Positive Number")
        if int(page) > MAX_PAGE:
            return 400, PAGE_LIMIT_BODY, {}, 1
        try:
            since = _instant_param(params.get("updated_since"))
        except ValueError:
            return _invalid("updated_since", "It should be in the 'valid date-time' format")
        order_by = params.get("order_by", "created_at")
        if order_by not in ("created_at", "due_by", "updated_at", "status"):
            return _invalid(
                "order_by",
                "It should be one of these values: 'created_at,due_by,updated_at,status'",
            )
        descending = params.get("order_type", "desc") != "asc"
        ticket_filter = params.get("filter")
        if ticket_filter not in (None, "deleted", "spam", "new_and_my_open", "watching"):
            return _invalid(
                "filter",
                "It should be one of these values: 'new_and_my_open,watching,spam,deleted'",
            )
        if order_by == "updated_at" and not descending and since is not None:
            # The poller's query: the cached index is already in this order, so stop early.
            rows = self._select(ticket_filter, since, params, limit=int(page) * int(per_page) + 1)
        else:
            rows = self._select(ticket_filter, since, params, limit=None)
            rows.sort(
                key=lambda pair: (_order_key(state, pair[1], order_by, pair[0]), pair[1].id),
                reverse=descending,
            )
        credits = 1 + 2 * len(includes)
        rendered = [ticket for _, ticket in rows]
        status, body, headers, _ = self._paginate(rendered, params, "/api/v2/tickets", credits)
        return status, [render_ticket(state, ticket, includes) for ticket in body], headers, credits

    def _select(
        self,
        ticket_filter: str | None,
        since: int | None,
        params: dict[str, str],
        limit: int | None,
    ) -> list[tuple[int, SimTicket]]:
        state = self.server.state
        tickets = state.dataset.tickets
        wanted_deleted, wanted_spam = ticket_filter == "deleted", ticket_filter == "spam"
        if since is None:  # Freshdesk's silent default: tickets created in the last 30 days
            candidates: Any = (
                (t.updated_at(state.now), t)
                for t in tickets.values()
                if state.visible(t) and t.created_at >= state.now - DEFAULT_WINDOW
            )
        else:
            index = state.updated_index()
            first = bisect_left(index, since, key=lambda pair: pair[0])
            candidates = (
                (updated, tickets[ticket_id])
                for updated, ticket_id in (index[at] for at in range(first, len(index)))
                # Most tickets are neither deleted nor spam: never generated for those lists.
                if ticket_id in state.flagged or not (wanted_deleted or wanted_spam)
            )
        company = params.get("company_id")
        rows = []
        for updated, ticket in candidates:
            if (
                ticket.deleted == wanted_deleted
                and (ticket.spam == wanted_spam or wanted_deleted)
                and (company is None or str(ticket.company_id) == company)
            ):
                rows.append((updated, ticket))
                if limit is not None and len(rows) >= limit:
                    break
        return rows

    def _paginate(
        self, rows: list[Any], params: dict[str, str], path: str, credits: int
    ) -> tuple[int, Any, dict[str, str], int]:
        per_page = int(params.get("per_page", DEFAULT_PER_PAGE))
        page = int(params.get("page", 1))
        chunk = rows[(page - 1) * per_page : page * per_page]
        headers = {}
        if len(rows) > page * per_page:  # like Freshdesk, page 300 still links to 301
            next_query = urlencode({**params, "page": page + 1})
            headers["Link"] = f'<{self.server.base_url}{path}?{next_query}>; rel="next"'
        return 200, chunk, headers, credits


def _order_key(state: SimulatorState, ticket: SimTicket, order_by: str, updated: int) -> int:
    if order_by == "updated_at":
        return updated
    if order_by == "status":
        return int(ticket.state(state.now)["status"])
    if order_by == "due_by":
        return int(ticket.state(state.now)["due_by"])
    return ticket.created_at


def _includes(params: dict[str, str]) -> set[str]:
    return {part for part in params.get("include", "").split(",") if part}


def _instant_param(value: str | None) -> int | None:
    if not value:
        return None
    text = value if "T" in value else value + "T00:00:00Z"
    if not re.search(r"(Z|[+-]\d\d(:?\d\d)?)$", text):  # Freshdesk reads zone-less input as UTC
        text += "Z"
    return int(parse_instant(text).timestamp())


def _invalid(field_name: str, message: str) -> tuple[int, Any, dict[str, str], int]:
    body = {
        "description": "Validation failed",
        "errors": [{"field": field_name, "message": message, "code": "invalid_value"}],
    }
    return 400, body, {}, 1


TICKET_FIELDS: list[dict[str, Any]] = [
    {
        "id": 103000570120,
        "name": "status",
        "label": "Status",
        "type": "default_status",
        "choices": {
            "2": ["Open", "Being Processed"],
            "3": ["Pending", "Awaiting your Reply"],
            "4": ["Resolved", "This ticket has been Resolved"],
            "5": ["Closed", "This ticket has been Closed"],
            "6": ["Waiting on Customer", "Awaiting your Reply"],
            "7": ["Waiting on Third Party", "Being Processed"],
        },
    },
    {
        "id": 103000570121,
        "name": "source",
        "label": "Source",
        "type": "default_source",
        "choices": {
            "Email": 1,
            "Portal": 2,
            "Phone": 3,
            "Chat": 7,
            "Feedback Widget": 9,
            "Outbound Email": 10,
        },
    },
    {
        "id": 103000570122,
        "name": "priority",
        "label": "Priority",
        "type": "default_priority",
        "choices": {"Low": 1, "Medium": 2, "High": 3, "Urgent": 4},
    },
    {
        "id": 103000570123,
        "name": "ticket_type",
        "label": "Type",
        "type": "default_ticket_type",
        "choices": ["Question", "Incident", "Problem", "Feature Request"],
    },
    {
        "id": 103000570124,
        "name": "cf_gravite",
        "label": "Gravité",
        "type": "custom_dropdown",
        "choices": ["Bloquante", "Majeure", "Mineure"],
    },
]


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: SimulatorState, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), SimulatorHandler)
        self.state = state
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}"


class Simulator:
    """Runs the simulator in a background thread: ``with Simulator(state) as sim: sim.url``."""

    def __init__(self, state: SimulatorState, port: int = 0) -> None:
        self.state = state
        self.server = SimulatorHTTPServer(state, port)
        self.url = self.server.base_url
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Simulator:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.state.webhook is not None:
            self.state.webhook.close()


def make_state(
    *,
    seed: int,
    tickets: int,
    now: datetime,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    lazy: bool | None = None,
    **options: Any,
) -> SimulatorState:
    """A seeded account at ``now``; with ``webhook_url``, its changes are POSTed there
    with ``webhook_secret`` (see ``webhooks.py`` for the contract)."""
    from sla_tracker.helpdesk.freshdesk.simulator.dataset import generate

    if webhook_url is not None:
        if not webhook_secret:
            raise ValueError("a simulator webhook needs a secret: give --webhook-secret")
        options["webhook"] = WebhookSender(webhook_url, webhook_secret)
    return SimulatorState(
        generate(seed=seed, tickets=tickets, anchor=now, lazy=lazy), int(now.timestamp()), **options
    )
