"""Freshdesk API v2 client: authentication, pacing, bounded retries, clear errors.

HTTP only: it returns API records and knows nothing of storage. Retries (tenacity) cover
the transient failures — 429 and 503 (honouring ``Retry-After`` up to a ceiling), 5xx,
timeouts, dropped connections, bodies cut off or garbled on the way, a body that is not
JSON — with exponential backoff and jitter, one log line per retry. Everything else is
permanent and raised at once with a message that says what to fix. Every wait ends at once
when ``stop`` is set, so SIGTERM never waits out a back-off. The API key is sent only in the
``Authorization`` header, only to the API's own origin (redirects elsewhere are refused),
and never appears in a message or a log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from sla_tracker import __version__
from sla_tracker.helpdesk import CallCounter, HelpdeskError, HelpdeskNotFound
from sla_tracker.helpdesk.freshdesk.adapter import FreshdeskAdapter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sla_tracker.config import FreshdeskSettings

PER_PAGE = 100  # Freshdesk's maximum
MAX_PAGE = 300  # Freshdesk refuses any list page beyond this
LIST_TICKETS = "/api/v2/tickets"
GROUPS, AGENTS = "/api/v2/groups", "/api/v2/agents"
DEFAULT_RETRY_AFTER = 60.0  # a 429 without a usable Retry-After
DEFAULT_MAX_RETRY_AFTER = 120.0  # freshdesk.max_retry_after_seconds
MAX_REDIRECTS = 5
# A body cut off (IncompleteRead, a bad chunk, Content-Length too long) or not decodable.
BROKEN_BODY = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
DEFAULT_PORTS = {"http": 80, "https": 443}
LOG = logging.getLogger("sla_tracker.helpdesk.freshdesk.client")


class FreshdeskError(HelpdeskError):
    """A Freshdesk call failed; the message names the endpoint and what to do."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class FreshdeskAuthError(FreshdeskError):
    """401/403: the key is wrong, or its agent may not see this. Permanent."""


class FreshdeskNotFoundError(FreshdeskError, HelpdeskNotFound):
    """404: a wrong domain or URL, or a ticket that no longer exists. Permanent."""


class FreshdeskValidationError(FreshdeskError):
    """400: Freshdesk refused the request; ``errors`` holds its ``errors[]``. Permanent."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message, 400)
        self.errors = errors

    @property
    def is_page_limit(self) -> bool:
        """The "beyond the 300th page" refusal, which the sync recovers from."""
        return any(error.get("field") == "page" for error in self.errors)


class FreshdeskStopped(FreshdeskError):
    """``stop`` was set (SIGTERM) while the client waited to call again. Permanent."""


class FreshdeskTransientError(FreshdeskError):
    """429, 5xx, a timeout, a dropped connection or a garbled body: worth retrying."""

    def __init__(self, message: str, status_code: int | None = None, retry_after: float = 0):
        super().__init__(message, status_code)
        self.retry_after = retry_after


@dataclass
class Page:
    records: list[dict[str, Any]]
    has_next: bool


@dataclass
class FreshdeskClient(FreshdeskAdapter):
    """A paced, retrying Freshdesk client (the sync's help desk, through its adapter);
    ``sleep`` and ``monotonic`` are injectable.

    Without ``sleep``, waits are ``stop.wait``: setting ``stop`` (a SIGTERM handler does)
    ends any back-off or pacing wait at once with :class:`FreshdeskStopped`.
    """

    base_url: str
    api_key: str = field(repr=False)
    timeout_seconds: float = 30.0
    max_retries: int = 5
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    calls_per_minute: int | None = None
    page_size: int = PER_PAGE
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    sleep: Callable[[float], None] | None = field(default=None, repr=False)
    monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    counter: CallCounter = field(default_factory=CallCounter)
    _recent_calls: deque[float] = field(default_factory=deque, repr=False)
    _credits_left: int | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session.auth = (self.api_key, "X")
        self.session.headers.update(
            {"Accept": "application/json", "User-Agent": f"sla-tracker/{__version__}"}
        )

    @classmethod
    def from_settings(cls, settings: FreshdeskSettings, **kwargs: Any) -> FreshdeskClient:
        from sla_tracker.config import ConfigError

        if settings.base_url:
            base_url = settings.base_url
        elif settings.domain:
            base_url = f"https://{settings.domain}.freshdesk.com"
        else:
            raise ConfigError(
                "freshdesk.domain is not set: give your helpdesk's subdomain (acme for "
                "https://acme.freshdesk.com) or freshdesk.base_url"
            )
        if settings.api_key is None:
            raise ConfigError(
                "no Freshdesk API key: set $SLA_TRACKER_FRESHDESK_API_KEY (or "
                "$SLA_TRACKER_FRESHDESK_API_KEY_FILE, or freshdesk.api_key)"
            )
        return cls(
            base_url,
            settings.api_key.get_secret_value(),
            timeout_seconds=settings.timeout_seconds,
            max_retries=settings.max_retries,
            max_retry_after=settings.max_retry_after_seconds,
            calls_per_minute=settings.calls_per_minute,
            **kwargs,
        )

    # -- endpoints -----------------------------------------------------------------------

    def list_tickets(self, params: dict[str, Any]) -> Page:
        """One page of ``GET /api/v2/tickets`` with the given query."""
        body, response = self.get(LIST_TICKETS, params)
        return Page(_as_list(body, LIST_TICKETS), "next" in response.links)

    def view_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """``GET /api/v2/tickets/{id}?include=stats``; None when Freshdesk says 404 (gone)."""
        path = f"{LIST_TICKETS}/{ticket_id}"
        try:
            body, _ = self.get(path, {"include": "stats"})
        except FreshdeskNotFoundError:
            return None
        if not isinstance(body, dict):
            raise FreshdeskError(f"GET {path} returned {type(body).__name__}, not a ticket")
        return body

    def iter_companies(self, updated_since: str | None) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"per_page": self.page_size}
        if updated_since:
            params["updated_since"] = updated_since
        return self.iter_list("/api/v2/companies", params)

    def iter_groups(self) -> Iterator[dict[str, Any]]:
        """Every group (``GET /api/v2/groups``)."""
        return self.iter_list(GROUPS, {"per_page": PER_PAGE})

    def iter_agents(self) -> Iterator[dict[str, Any]]:
        """Every agent (``GET /api/v2/agents``, admin only): no ``updated_since`` exists."""
        return self.iter_list(AGENTS, {"per_page": PER_PAGE})

    def ticket_fields(self) -> list[dict[str, Any]]:
        body, _ = self.get("/api/v2/ticket_fields", {})
        return _as_list(body, "/api/v2/ticket_fields")

    def conversations(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every reply and note of a ticket (``GET /api/v2/tickets/{id}/conversations``)."""
        return list(self.iter_list(f"{LIST_TICKETS}/{ticket_id}/conversations", {"per_page": 100}))

    def iter_list(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A paged list endpoint's records, page by page while Freshdesk links a next one."""
        for page in range(1, MAX_PAGE + 1):
            body, response = self.get(path, {**params, "page": page})
            yield from _as_list(body, path)
            if "next" not in response.links:
                return

    # -- transport -----------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any]) -> tuple[Any, requests.Response]:
        """GET with pacing and bounded retries; returns the decoded JSON and the response."""
        retrying = Retrying(
            retry=retry_if_exception_type(FreshdeskTransientError),
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._backoff,
            sleep=self._wait,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._get_once, path, params)
        except FreshdeskTransientError as error:
            raise FreshdeskError(
                f"{error} — gave up after {self.max_retries + 1} attempts; Freshdesk may be "
                "down or rate-limited, the next run will retry",
                error.status_code,
            ) from None

    @staticmethod
    def _backoff(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        exponential = wait_exponential_jitter(initial=1, max=60, jitter=1)(state)
        if isinstance(error, FreshdeskTransientError) and error.retry_after:
            return error.retry_after
        return float(exponential)

    def _log_retry(self, state: RetryCallState) -> None:
        """One line per retry, so an unreachable Freshdesk is never a long silence."""
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        LOG.warning("%s; retry %d/%d in %.1f s", error, state.attempt_number,
                    self.max_retries, wait)  # fmt: skip

    def _wait(self, seconds: float) -> None:
        """Sleep, unless ``stop`` is set: then end the run at once (the next run resumes)."""
        if self.sleep is not None:
            self.sleep(seconds)
        else:
            self.stop.wait(seconds)
        if self.stop.is_set():
            raise FreshdeskStopped(
                f"stopped while waiting {seconds:.0f} s to call Freshdesk again; what was read "
                "before is kept and the next run resumes from there"
            )

    def _get_once(self, path: str, params: dict[str, Any]) -> tuple[Any, requests.Response]:
        self._pace()
        self.counter.api_calls += 1
        self._recent_calls.append(self.monotonic())
        try:
            response = self._get_same_origin(path, params)
        except requests.Timeout:
            raise FreshdeskTransientError(
                f"GET {path}: no answer within {self.timeout_seconds:g} s"
            ) from None
        except requests.ConnectionError as error:
            reason = type(error.__context__ or error).__name__
            raise FreshdeskTransientError(
                f"GET {path}: connection to {self.base_url} failed ({reason})"
            ) from None
        except BROKEN_BODY as error:
            raise FreshdeskTransientError(
                f"GET {path}: the answer was cut off or garbled on the way ({_innermost(error)})"
            ) from None
        except requests.RequestException as error:
            raise FreshdeskError(
                f"GET {path} on {self.base_url} failed ({type(error).__name__}): "
                "check freshdesk.domain or freshdesk.base_url"
            ) from None
        self._read_rate_headers(response)
        if response.status_code >= 400:
            refusal = error_from_response(path, response, self.base_url)
            if self._waits_too_long(refusal):
                raise FreshdeskError(
                    f"{refusal}: longer than freshdesk.max_retry_after_seconds "
                    f"({self.max_retry_after:g} s), so this run stops here; the next run retries",
                    refusal.status_code,
                )
            raise refusal
        try:
            return response.json(), response
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise FreshdeskTransientError(
                f"GET {path} returned a body that is not JSON ({kind}): {response.content[:60]!r}",
                response.status_code,
            ) from None

    def _waits_too_long(self, error: FreshdeskError) -> bool:
        """A Retry-After past the ceiling: waiting it out would stall the run (and the service)."""
        return (
            isinstance(error, FreshdeskTransientError) and error.retry_after > self.max_retry_after
        )

    def _get_same_origin(self, path: str, params: dict[str, Any]) -> requests.Response:
        """GET, following redirects only within the API's origin: the key never leaves it.

        requests itself keeps the ``Authorization`` header on an http→https redirect to the
        same host, which is another origin; here nothing is sent to another origin at all.
        """
        url: str = self.base_url + path
        query: dict[str, Any] | None = params
        for _ in range(MAX_REDIRECTS + 1):
            response = self.session.get(
                url, params=query, timeout=self.timeout_seconds, allow_redirects=False
            )
            if not response.is_redirect:
                return response
            url, query = urljoin(response.url, response.headers["Location"]), None
            if _origin(url) != _origin(self.base_url):
                raise FreshdeskError(
                    f"GET {path} was redirected to {_origin(url)}; the API key is only sent to "
                    f"{_origin(self.base_url)}: if that is your helpdesk, set "
                    "freshdesk.base_url to it"
                )
        raise FreshdeskError(
            f"GET {path}: more than {MAX_REDIRECTS} redirects (a redirect loop): check "
            "freshdesk.domain or freshdesk.base_url"
        )

    def _read_rate_headers(self, response: requests.Response) -> None:
        used = response.headers.get("X-RateLimit-Used-CurrentRequest")
        remaining = response.headers.get("X-RateLimit-Remaining")
        if used and used.isdigit():
            self.counter.credits += int(used)
        self._credits_left = int(remaining) if remaining and remaining.isdigit() else None

    def _pace(self) -> None:
        """Stay under our own calls-per-minute ceiling and the account's remaining credits."""
        now = self.monotonic()
        while self._recent_calls and self._recent_calls[0] <= now - 60:
            self._recent_calls.popleft()
        over_ceiling = bool(self.calls_per_minute) and len(self._recent_calls) >= (
            self.calls_per_minute or 0
        )
        out_of_credits = self._credits_left is not None and self._credits_left <= 0
        if (over_ceiling or out_of_credits) and self._recent_calls:
            self._wait(max(0.0, self._recent_calls[0] + 60 - now))


def error_from_response(path: str, response: requests.Response, base_url: str) -> FreshdeskError:
    """Turn an HTTP error into the exception that says what went wrong and what to do."""
    status = response.status_code
    details = _error_details(response)
    if status == 401:
        return FreshdeskAuthError(
            f"Freshdesk refused the API key on GET {path} (401{details}): check "
            "$SLA_TRACKER_FRESHDESK_API_KEY — it must be an agent's API key",
            status,
        )
    if status == 403:
        return FreshdeskAuthError(
            f"the API key's agent may not read GET {path} (403{details}): use the key of an "
            "administrator with global ticket scope",
            status,
        )
    if status == 404:
        if path.startswith(LIST_TICKETS + "/"):
            return FreshdeskNotFoundError(f"GET {path}: no such ticket (404)", status)
        return FreshdeskNotFoundError(
            f"no Freshdesk API answers at {base_url} (404 on GET {path}): check "
            "freshdesk.domain or freshdesk.base_url",
            status,
        )
    if status == 400:
        errors = _errors_list(response)
        listed = "; ".join(
            f"{error.get('field', '?')}: {error.get('message', '')} ({error.get('code', '')})"
            for error in errors
        )
        return FreshdeskValidationError(
            f"Freshdesk refused GET {path} (400): {listed or response.text[:200]}", errors
        )
    retry_after = response.headers.get("Retry-After", "")
    asked = float(retry_after) if retry_after.isdigit() else None
    if status == 429:
        seconds = DEFAULT_RETRY_AFTER if asked is None else asked
        return FreshdeskTransientError(
            f"GET {path}: Freshdesk rate limit reached (429, retry after {seconds:g} s)",
            status,
            seconds,
        )
    if status >= 500:
        after = "" if asked is None else f", retry after {asked:g} s"
        return FreshdeskTransientError(
            f"GET {path}: Freshdesk server error ({status}{after})", status, asked or 0
        )
    return FreshdeskError(f"GET {path} failed ({status}{details})", status)


def _origin(url: str) -> str:
    """scheme://host:port, the unit the API key may be sent to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return f"{scheme}://{parts.hostname}:{parts.port or DEFAULT_PORTS.get(scheme)}"


def _innermost(error: BaseException) -> str:
    """The innermost HTTP library error's name (IncompleteRead…), never its text."""
    while inner := next((arg for arg in error.args if _http_error(arg)), None):
        error = inner
    return type(error).__name__


def _http_error(thing: object) -> bool:
    return isinstance(thing, BaseException) and type(thing).__module__.startswith(
        ("urllib3", "http.")
    )


def _error_details(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        code, message = body.get("code"), body.get("message") or body.get("description")
        return "".join(f" {part}" for part in (code, message) if part)
    return ""


def _errors_list(response: requests.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [error for error in errors if isinstance(error, dict)]


def _as_list(body: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise FreshdeskError(f"GET {path} returned {type(body).__name__}, not a list of records")
    return body
