"""Who may read the board, and the headers every response carries.

Access is a bearer token (for the API, Prometheus) or basic credentials (for a browser on a
wall screen), both from ``[web]`` secrets; without either the settings refuse any address
but loopback. Comparisons are constant-time and a secret never reaches a log or an error.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING, Annotated

from fastapi import Header, HTTPException

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from sla_tracker.config import WebSettings

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = [
    (b"content-security-policy", POLICY.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """ASGI middleware: CSP (scripts and styles from this server only, no framing),
    no referrer leaving the board, no content sniffing, on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                own = {name.lower() for name, _ in headers}  # a page may set a stricter policy
                message["headers"] = headers + [h for h in HEADERS if h[0] not in own]
            await send(message)

        await self.app(scope, receive, with_headers)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def access_check(web: WebSettings) -> Callable[..., None]:
    """A FastAPI dependency: open when no credentials are set (loopback only, by the
    settings' rule), else a valid ``Authorization`` header or 401."""
    token = web.token.get_secret_value() if web.token else None
    basic = (web.username or "", web.password.get_secret_value()) if web.password else None

    def check(authorization: Annotated[str | None, Header()] = None) -> None:
        if token is None and basic is None:
            return
        scheme, _, value = (authorization or "").partition(" ")
        if token is not None and scheme.lower() == "bearer" and _same(value.strip(), token):
            return
        if basic is not None and scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            if _same(user, basic[0]) & _same(password, basic[1]):
                return
        challenge = 'Basic realm="sla-tracker", charset="UTF-8"' if basic else "Bearer"
        raise HTTPException(
            status_code=401,
            detail="credentials required: a bearer token or the board's basic credentials",
            headers={"WWW-Authenticate": challenge},
        )

    return check
