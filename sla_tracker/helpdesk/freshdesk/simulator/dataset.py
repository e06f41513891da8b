"""A seeded, realistic Freshdesk account of a French B2B CRM vendor.

Each ticket is a creation plus a time-ordered list of events (agent and customer replies,
status changes). Its state at any instant is the fold of the events up to that instant, so
the simulator's clock can advance and tickets evolve between two polls exactly as they
would in Freshdesk. Everything is derived from the seed and the anchor instant.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import holidays

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

PARIS = ZoneInfo("Europe/Paris")
HOUR, DAY = 3600, 86400
OPEN, PENDING, RESOLVED, CLOSED, WAITING_CUSTOMER, WAITING_THIRD_PARTY = 2, 3, 4, 5, 6, 7
EMAIL, PORTAL, PHONE, CHAT, FEEDBACK_WIDGET, OUTBOUND_EMAIL = 1, 2, 3, 7, 9, 10
# Freshdesk's own SLA policy of this account, per priority: (respond, resolve) in wall-clock
# seconds. It deliberately does not match the contract, as in real accounts.
FRESHDESK_POLICY = {
    1: (8 * HOUR, 5 * DAY),
    2: (4 * HOUR, 3 * DAY),
    3: (2 * HOUR, DAY),
    4: (HOUR, 4 * HOUR),
}

# (subject, description, priority, type, cf_gravite) — French CRM support, a few in English.
TEMPLATES: list[tuple[str, str, int, str | None, str | None]] = [
    (
        "Impossible de créer une facture",
        "Depuis ce matin, impossible de créer une facture : le bouton Enregistrer ne répond plus. Nous ne pouvons plus facturer.",
        4,
        "Incident",
        "Bloquante",
    ),
    (
        "Plus aucun accès à l'application",
        "Plus aucun accès pour toute l'équipe commerciale, la page reste blanche après connexion.",
        4,
        "Incident",
        "Bloquante",
    ),
    (
        "Application inaccessible",
        "L'application est inaccessible depuis 8h30 pour tous nos utilisateurs.",
        4,
        "Incident",
        "Bloquante",
    ),
    (
        "Bloqué : impossible d'enregistrer un devis",
        "Nous sommes bloqués, l'enregistrement d'un devis renvoie une erreur 500.",
        4,
        "Incident",
        "Bloquante",
    ),
    (
        "Impossible de modifier une fiche compte",
        "La modification de la fiche compte de nos clients échoue systématiquement.",
        3,
        "Incident",
        "Bloquante",
    ),
    (
        "Création d'opportunité impossible",
        "Impossible de créer une opportunité depuis la fiche contact.",
        3,
        "Incident",
        "Bloquante",
    ),
    (
        "Erreur à l'enregistrement d'un contact",
        "Impossible d'enregistrer un nouveau contact : message « erreur inattendue ».",
        3,
        "Incident",
        "Majeure",
    ),
    (
        "Impossible de planifier une action",
        "La création d'une action (rappel téléphonique) ne fonctionne plus, aucun contournement trouvé.",
        3,
        "Incident",
        "Majeure",
    ),
    (
        "Synchronisation ERP Sage en échec",
        "Les factures ne remontent plus dans Sage via le connecteur ERP.",
        3,
        "Incident",
        "Bloquante",
    ),
    (
        "Connecteur Shopify : commandes non importées",
        "Les commandes e-commerce Shopify ne créent plus de devis.",
        3,
        "Incident",
        "Majeure",
    ),
    (
        "Tableau Power BI vide",
        "Notre rapport Power BI (BI) ne reçoit plus les opportunités.",
        2,
        "Incident",
        "Majeure",
    ),
    (
        "Champ personnalisé non enregistré sur la fiche compte",
        "Le champ personnalisé « Secteur » de la fiche compte ne s'enregistre pas.",
        3,
        "Incident",
        "Bloquante",
    ),
    (
        "Export PDF des devis en erreur",
        "L'export PDF des devis échoue, nous passons par l'impression en attendant.",
        2,
        "Incident",
        "Majeure",
    ),
    (
        "Relances automatiques non envoyées",
        "Les relances de factures ne partent plus, nous les envoyons à la main.",
        2,
        "Incident",
        "Mineure",
    ),
    (
        "Faute dans le modèle de facture",
        "Le modèle de facture affiche « Total TTC » deux fois.",
        1,
        "Incident",
        "Mineure",
    ),
    (
        "Tri des colonnes incorrect",
        "Le tri par date dans la liste des actions est inversé.",
        1,
        "Incident",
        "Mineure",
    ),
    (
        "Comment importer mes contacts ?",
        "Bonjour, comment importer un fichier Excel de contacts ?",
        1,
        "Question",
        None,
    ),
    (
        "Évolution : relance automatique par SMS",
        "Serait-il possible d'ajouter des relances par SMS ? Fonctionnalité non disponible aujourd'hui.",
        1,
        "Feature Request",
        None,
    ),
    (
        "Cannot log in since this morning",
        "None of our users can log in, the app is down for us.",
        4,
        "Incident",
        "Bloquante",
    ),
    (
        "Invoice PDF shows wrong VAT",
        "The invoice PDF shows 20% VAT on exempt lines; workaround: edit manually.",
        2,
        "Incident",
        "Mineure",
    ),
]
MODULES = ["Facturation", "CRM", "Devis", "Agenda", "Opportunités", "Intégrations"]
TOWNS = ["Lyon", "Nantes", "Lille", "Rennes", "Bordeaux", "Metz", "Strasbourg", "Tours", "Dijon"]
TRADES = ["Menuiserie", "Transports", "Boulangerie", "Conseil", "Imprimerie", "Plomberie", "Agence"]
NAMES = ["Martin", "Bernard", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux", "Fournier", "Morel"]
FORMS = ["SARL", "SAS", "SA", "EURL"]
# The account's groups and their agents: (group id, name, [(agent id, name)]). Tickets are
# spread over the groups; the agent who answers is one of the group's.
GROUPS: list[tuple[int, str, list[tuple[int, str]]]] = [
    (103_000_187_000, "Support N1", [(103_013_902_117, "Camille Durand"),
                                     (103_013_902_118, "Julien Petit")]),
    (103_000_187_001, "Support N2", [(103_013_902_119, "Sophie Lambert"),
                                     (103_013_902_120, "Thomas Mercier")]),
    (103_000_187_002, "Intégrations", [(103_013_902_121, "Nadia Benali")]),
]  # fmt: skip
DEFAULT_AGENT = GROUPS[0][2][0][0]


@dataclass
class SimTicket:
    id: int
    company_id: int
    requester_id: int
    subject: str
    description: str
    priority: int
    source: int
    type: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    group_id: int
    created_at: int
    initial_status: int = OPEN
    responder_id: int = DEFAULT_AGENT  # the agent who answers, once someone has
    # (at, kind, value): kind in status | agent_reply | customer_reply | touch
    events: list[tuple[int, str, int]] = field(default_factory=list)
    event_times: list[int] = field(default_factory=list)
    deleted: bool = False
    spam: bool = False
    purged: bool = False  # hard-deleted: 404 everywhere

    def add_event(self, at: int, kind: str, value: int = 0) -> None:
        position = bisect_right(self.events, (at, kind, value))
        self.events.insert(position, (at, kind, value))
        self.event_times.insert(position, at)

    def updated_at(self, now: int) -> int:
        seen = bisect_right(self.event_times, now)
        return max(self.created_at, self.event_times[seen - 1]) if seen else self.created_at

    def state(self, now: int) -> dict[str, Any]:
        """Status, stats and escalation flags as Freshdesk would report them at ``now``."""
        status, status_at = self.initial_status, self.created_at
        stats: dict[str, int | None] = dict.fromkeys(STAT_KEYS)
        if status in (RESOLVED, CLOSED):
            stats["resolved_at"] = stats["closed_at"] = self.created_at
        for at, kind, value in self.events[: bisect_right(self.event_times, now)]:
            if kind == "agent_reply":
                stats["first_responded_at"] = stats["first_responded_at"] or at
                stats["agent_responded_at"] = at
            elif kind == "customer_reply":
                stats["requester_responded_at"] = at
            elif kind == "status" and value != status:
                if status in (RESOLVED, CLOSED) and value not in (RESOLVED, CLOSED):
                    stats["reopened_at"] = at
                if value == RESOLVED:
                    stats["resolved_at"] = at
                elif value == CLOSED:
                    stats["closed_at"] = at
                    if status != RESOLVED:  # closing an unresolved ticket resolves it too
                        stats["resolved_at"] = at
                status, status_at = value, at
        stats["status_updated_at"] = status_at
        stats["pending_since"] = status_at if status == PENDING else None
        respond, resolve = FRESHDESK_POLICY[self.priority]
        fr_due, due = self.created_at + respond, self.created_at + resolve
        first = stats["first_responded_at"]
        resolved = stats["resolved_at"]
        return {
            "status": status,
            "stats": stats,
            "fr_due_by": fr_due,
            "due_by": due,
            "fr_escalated": (first or now) > fr_due,
            "is_escalated": (resolved or now) > due,
        }


STAT_KEYS = (
    "agent_responded_at",
    "requester_responded_at",
    "first_responded_at",
    "status_updated_at",
    "reopened_at",
    "resolved_at",
    "closed_at",
    "pending_since",
)


@dataclass
class SimCompany:
    id: int
    name: str
    domain: str
    created_at: int
    updated_at: int
    subscription: str
    fee: int


@dataclass
class Dataset:
    companies: list[SimCompany]
    tickets: MutableMapping[int, SimTicket]  # write a changed ticket back: it is kept


LAZY_ABOVE = 50_000  # larger accounts are generated ticket by ticket, when asked for
SETTLED = 2**62  # an instant after every event: updated_at then is the ticket's last one


class UpdatedIndex(Protocol):
    """(updated_at, id) of every visible ticket, sorted: what the poller's query walks."""

    def __len__(self) -> int: ...

    def __getitem__(self, position: int) -> tuple[int, int]: ...


class LazyTickets(MutableMapping[int, SimTicket]):
    """A large account's tickets, each generated from (seed, id) whenever it is asked for.

    Memory holds three integers per ticket (creation, last scheduled event, index key) and
    the tickets changed since the start, which are kept as Freshdesk keeps them; a million
    tickets fit in tens of megabytes instead of gigabytes. Ids follow creation order.
    """

    def __init__(self, seed: int, created: Iterable[int], companies: list[SimCompany]) -> None:
        self._seed, self._companies = seed, companies
        self._created = array("q", created)
        self._kept: dict[int, SimTicket] = {}
        self._settled = array("q", (self._generate(ticket_id).updated_at(SETTLED)
                                    for ticket_id in self))  # fmt: skip
        self._shift = len(self._created).bit_length()
        # The last index built, the instant it is for, and what can move it later: the next
        # change of each generated ticket still to change, and each kept ticket's key.
        self._index: _PackedIndex | None = None
        self._index_now = 0
        self._pending = array("q")
        self._indexed_kept: dict[int, int | None] = {}

    def _generate(self, ticket_id: int) -> SimTicket:
        rng = random.Random(self._seed * 1_000_003 + ticket_id)
        return _ticket(rng, ticket_id, self._created[ticket_id - 1], self._companies)

    def __getitem__(self, ticket_id: int) -> SimTicket:
        if (kept := self._kept.get(ticket_id)) is not None:
            return kept
        if not isinstance(ticket_id, int) or not 1 <= ticket_id <= len(self._created):
            raise KeyError(ticket_id)
        return self._generate(ticket_id)

    def __setitem__(self, ticket_id: int, ticket: SimTicket) -> None:
        if not 1 <= ticket_id <= len(self._created):
            raise KeyError(f"a generated account only has tickets 1–{len(self._created)}")
        self._kept[ticket_id] = ticket

    def __delitem__(self, ticket_id: int) -> None:
        raise TypeError("tickets are purged (mark them), never removed")

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, len(self._created) + 1))

    def __len__(self) -> int:
        return len(self._created)

    def updated_index(self, now: int, visible: Callable[[SimTicket], bool]) -> UpdatedIndex:
        """The index at ``now``, brought forward from the last one when the clock has not gone
        back: only the tickets whose next event falls in between, and the kept ones, are
        looked at again (a poll after a few minutes costs milliseconds, not a rebuild)."""
        index = self._index
        if index is None or now < self._index_now:
            index = self._index = self._build_index(now, visible)
        else:
            self._bring_forward(index, now, visible)
        self._index_now = now
        return index

    def _key(self, ticket: SimTicket, now: int) -> int | None:
        if ticket.created_at > now:
            return None
        return ticket.updated_at(now) << self._shift | ticket.id

    def _next_change(self, ticket: SimTicket, now: int) -> int | None:
        """When the ticket's ``updated_at`` next moves after ``now`` (None: never again)."""
        if ticket.created_at > now:
            return ticket.created_at
        later = ticket.event_times[bisect_right(ticket.event_times, now) :]
        return next((at for at in later if at > ticket.created_at), None)

    def _build_index(self, now: int, visible: Callable[[SimTicket], bool]) -> _PackedIndex:
        keys, pending = [], []
        self._indexed_kept = {}
        for ticket_id, (created, settled) in enumerate(
            zip(self._created, self._settled, strict=True), 1
        ):
            if (kept := self._kept.get(ticket_id)) is not None:
                key = self._key(kept, now) if visible(kept) else None
                self._indexed_kept[ticket_id] = key
            elif created <= now and settled <= now:  # most tickets: nothing to generate
                key = settled << self._shift | ticket_id
            else:
                ticket = self._generate(ticket_id)
                key = self._key(ticket, now)
                if (at := self._next_change(ticket, now)) is not None:
                    pending.append(at << self._shift | ticket_id)
            if key is not None:
                keys.append(key)
        keys.sort()
        pending.sort()
        self._pending = array("q", pending)
        return _PackedIndex(array("q", keys), self._shift)

    def _bring_forward(
        self, index: _PackedIndex, now: int, visible: Callable[[SimTicket], bool]
    ) -> None:
        before, mask = self._index_now, (1 << self._shift) - 1
        due = bisect_right(self._pending, now << self._shift | mask)
        moves: list[tuple[int | None, int | None]] = []
        for packed in self._pending[:due]:
            ticket_id = packed & mask
            if ticket_id in self._kept:
                continue  # kept tickets are looked at below
            ticket = self._generate(ticket_id)
            moves.append((self._key(ticket, before), self._key(ticket, now)))
            if (at := self._next_change(ticket, now)) is not None:
                insort(self._pending, at << self._shift | ticket_id)
        del self._pending[:due]
        for ticket_id, kept in self._kept.items():
            if ticket_id in self._indexed_kept:
                old = self._indexed_kept[ticket_id]
            else:  # newly kept: indexed as generated until now
                old = self._key(self._generate(ticket_id), before)
            new = self._key(kept, now) if visible(kept) else None
            moves.append((old, new))
            self._indexed_kept[ticket_id] = new
        index.move([(old, new) for old, new in moves if old != new])

    def may_change_after(self, instant: int) -> Iterator[SimTicket]:
        """Tickets whose ``updated_at`` can still move after ``instant`` (others are settled)."""
        for ticket_id, settled in enumerate(self._settled, 1):
            if settled > instant or ticket_id in self._kept:
                yield self[ticket_id]


class _PackedIndex:
    """An :class:`UpdatedIndex` as one 64-bit integer per ticket: updated_at, then the id."""

    REBUILD_ABOVE = 2_000  # moves beyond which one sorted pass beats a memmove each

    def __init__(self, keys: array[int], shift: int) -> None:
        self._keys, self._shift, self._mask = keys, shift, (1 << shift) - 1

    def move(self, moves: list[tuple[int | None, int | None]]) -> None:
        """Replace keys (None: none before, or none after), keeping the order."""
        gone = [old for old, _ in moves if old is not None]
        added = [new for _, new in moves if new is not None]
        if len(gone) + len(added) > self.REBUILD_ABOVE:
            dropped = set(gone)
            self._keys = array("q", sorted([*(k for k in self._keys if k not in dropped), *added]))
            return
        for key in gone:
            del self._keys[bisect_left(self._keys, key)]
        for key in added:
            insort(self._keys, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, position: int) -> tuple[int, int]:
        key = self._keys[position]
        return key >> self._shift, key & self._mask


def generate(
    *, seed: int, tickets: int, anchor: datetime, months: int = 6, lazy: bool | None = None
) -> Dataset:
    """``tickets`` tickets created over ``months`` months before ``anchor``, plus a few after.

    Tickets created after the anchor and events after it become visible as the clock moves.
    Up to ``LAZY_ABOVE`` tickets (unless ``lazy``) they are built at once from one random
    stream (the account the tests and the demo know); beyond, each is generated on demand
    from its own seed (:class:`LazyTickets`).
    """
    rng = random.Random(seed)
    anchor_ts = int(anchor.timestamp())
    start_ts = anchor_ts - months * 30 * DAY
    companies = _companies(rng, max(5, min(60, tickets // 150)), start_ts)
    holiday_days = sorted(
        day
        for day in holidays.country_holidays("FR", years=range(anchor.year - 1, anchor.year + 1))
        if start_ts <= _paris_ts(day, 10) <= anchor_ts
    )
    future = max(1, tickets // 50)
    created = sorted(
        [_creation_time(rng, start_ts, anchor_ts, holiday_days) for _ in range(tickets)]
        + [anchor_ts + rng.randrange(1, 7 * DAY) for _ in range(future)]
    )
    if lazy or (lazy is None and tickets > LAZY_ABOVE):
        return Dataset(companies, LazyTickets(seed, created, companies))
    by_id = {}
    for number, created_at in enumerate(created, start=1):
        ticket = _ticket(rng, number, created_at, companies)
        by_id[ticket.id] = ticket
    return Dataset(companies, by_id)


def _companies(rng: random.Random, count: int, start_ts: int) -> list[SimCompany]:
    companies = []
    for index in range(count):
        name = f"{rng.choice(TRADES)} {rng.choice(NAMES)} {rng.choice(TOWNS)} {rng.choice(FORMS)}"
        created = start_ts - rng.randrange(30, 900) * DAY
        companies.append(
            SimCompany(
                id=103_001_000_000 + index,
                name=name,
                domain=name.split()[1].lower().replace("è", "e") + f"{index}.example",
                created_at=created,
                updated_at=created + rng.randrange(0, 30) * DAY,
                subscription=rng.choice(["annual", "annual", "monthly", "two_years"]),
                fee=rng.choice([1200, 2400, 6000, 12000, 24000]),
            )
        )
    return companies


def _paris_ts(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).timestamp())


def _creation_time(rng: random.Random, start_ts: int, end_ts: int, holiday_days: list[date]) -> int:
    roll = rng.random()
    if roll < 0.03 and holiday_days:  # on a public holiday
        created = _paris_ts(rng.choice(holiday_days), rng.randrange(8, 20), rng.randrange(60))
    elif roll < 0.15:  # nights and weekends: the instant as drawn
        created = rng.randrange(start_ts, end_ts)
    else:  # office hours on a working day
        day = datetime.fromtimestamp(rng.randrange(start_ts, end_ts), PARIS).date()
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        created = _paris_ts(day, rng.randrange(9, 18), rng.randrange(60))
    # Never pile tickets up on the anchor instant: draw again inside the span instead.
    return created if start_ts <= created <= end_ts else rng.randrange(start_ts, end_ts)


def _ticket(
    rng: random.Random, number: int, created_at: int, companies: list[SimCompany]
) -> SimTicket:
    subject, description, priority, kind, gravity = rng.choice(TEMPLATES)
    company = rng.choice(companies)
    source = rng.choices(
        [EMAIL, PORTAL, PHONE, CHAT, FEEDBACK_WIDGET, OUTBOUND_EMAIL], [45, 30, 10, 8, 2, 5]
    )[0]
    ticket = SimTicket(
        id=number,
        company_id=company.id,
        requester_id=103_044_000_000 + rng.randrange(5000),
        subject=subject,
        description=description,
        priority=priority,
        source=source,
        type=kind,
        tags=rng.sample(
            ["facturation", "crm", "urgent", "api", "mobile", "import"], rng.randrange(3)
        ),
        custom_fields={
            "cf_gravite": gravity if rng.random() < 0.6 else None,
            "cf_module": rng.choice(MODULES),
            "cf_version": f"2026.{rng.randrange(1, 12)}",
        },
        group_id=103_000_187_000 + rng.randrange(3),
        created_at=created_at,
    )
    agents = next(members for group, _, members in GROUPS if group == ticket.group_id)
    ticket.responder_id = agents[number % len(agents)][0]  # drawn without the seed's stream
    if source == OUTBOUND_EMAIL:  # agent-initiated: created already closed
        ticket.initial_status = CLOSED
        return ticket
    _lifecycle(rng, ticket)
    return ticket


def _lifecycle(rng: random.Random, ticket: SimTicket) -> None:
    """Replies, pauses, resolution, auto-close and the odd reopening."""
    at = ticket.created_at + int(rng.expovariate(1 / (5 * HOUR))) + 60
    ticket.add_event(at, "agent_reply")
    if rng.random() < 0.35:  # waiting on the customer
        at += rng.randrange(10 * 60, 4 * HOUR)
        ticket.add_event(at, "status", rng.choice([PENDING, PENDING, WAITING_CUSTOMER]))
        at += rng.randrange(HOUR, 3 * DAY)
        ticket.add_event(at, "customer_reply")
        if rng.random() < 0.7:  # an agent flips it back; otherwise the reply alone ends it
            at += rng.randrange(5 * 60, 6 * HOUR)
            ticket.add_event(at, "status", OPEN)
    if rng.random() < 0.05:
        at += rng.randrange(HOUR, DAY)
        ticket.add_event(at, "status", WAITING_THIRD_PARTY)
    at += int(rng.expovariate(1 / (2 * DAY))) + HOUR
    ticket.add_event(at, "agent_reply")
    ticket.add_event(at + 30, "status", RESOLVED)
    if rng.random() < 0.08:  # reopened by the customer
        at += rng.randrange(HOUR, 2 * DAY)
        ticket.add_event(at, "customer_reply")
        ticket.add_event(at + 1, "status", OPEN)
        at += rng.randrange(HOUR, 3 * DAY)
        ticket.add_event(at, "status", RESOLVED)
    ticket.add_event(at + 2 * DAY, "status", CLOSED)


def iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
