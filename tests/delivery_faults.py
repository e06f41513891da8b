"""Receivers on loopback that can hold an answer, so a test can kill the sender at that moment.

``StallingInbox`` is an aiosmtpd handler: with ``stall="DATA"`` it keeps the first message and
holds its 250 (the message arrived, the sender does not know it was accepted); with
``stall="QUIT"`` it accepts the first message and holds the answer to QUIT (accepted, the
sender has not recorded it yet). ``HookServer`` is a webhook receiver with scripted answers
and the same hold on its first request.
"""

from __future__ import annotations

import asyncio
import email
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

WAIT = 30.0  # seconds a test waits for a stall or a process before failing (never reached)


class StallingInbox:
    """Every message received, in order; the first exchange may be held at ``stall``."""

    def __init__(self, stall: str | None = None) -> None:
        self.messages: list[Message] = []
        self.stall = stall
        self.stalled = threading.Event()
        self.release = threading.Event()

    @property
    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        await self._hold_if("DATA")
        return "250 OK"

    async def handle_QUIT(self, server: object, session: object, envelope: object) -> str:
        await self._hold_if("QUIT")
        return "221 Bye"

    async def _hold_if(self, command: str) -> None:
        if self.stall != command:
            return
        self.stall = None  # only the first exchange is held
        self.stalled.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(inbox: StallingInbox) -> Iterator[int]:
    """The inbox served on a free loopback port; released and stopped on exit."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        inbox.release.set()
        controller.stop()


class HookServer(ThreadingHTTPServer):
    """A webhook receiver: each POST gets the next scripted status (then 200); every request
    (method, path, headers, JSON body) is kept; the first may be held until ``release``."""

    daemon_threads = True

    def __init__(self, statuses: list[int] | None = None, *, stall: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.statuses = list(statuses or [])
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.stall = stall
        self.stalled = threading.Event()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/alerts"

    def __enter__(self) -> HookServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class _HookHandler(BaseHTTPRequestHandler):
    server: HookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._keep(json.loads(body) if body else None)
        if self.server.stall:
            self.server.stall = False
            self.server.stalled.set()
            self.server.release.wait(WAIT)
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._keep(None)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _keep(self, body: Any) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers), body))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads ``requests``."""


def smtp_config(path: Path, database: Path, port: int, extra: str = "") -> Path:
    """A configuration sending through the loopback server ``port``."""
    path.write_text(
        f'[database]\nurl = "sqlite:///{database}"\n[pause]\nstatuses = [3, 6]\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'sender = "sla@koban.example"\nrecipients = ["lead@koban.example"]\n{extra}',
        encoding="utf-8",
    )
    return path


class Tracker:
    """``python -m sla_tracker --config CONFIG ARGS`` as a process; its log (stderr merged) is
    read by a thread, so a process that goes quiet fails a wait instead of hanging it."""

    def __init__(self, config: Path, args: list[str], env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "sla_tracker", "--config", str(config), *args]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.closed = False
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @property
    def output(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.closed = True
            self.changed.notify_all()

    def wait_for(self, text: str) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.closed or text in "".join(self.lines), WAIT)
        if text not in self.output:
            self.process.kill()
            raise AssertionError(f"{text!r} not in the log:\n{self.output}")

    def finish(self) -> tuple[int, str]:
        """Its exit status and whole log, once it ends by itself."""
        status = self.process.wait(WAIT)
        self.reader.join(WAIT)
        return status, self.output

    def stop(self) -> str:
        """SIGTERM (the service finishes its job, then stops); its whole log."""
        self.process.send_signal(signal.SIGTERM)
        status, output = self.finish()
        assert status == 0, output
        return output

    def kill_when(self, event: threading.Event) -> None:
        """SIGKILL once the receiver holds its answer: the process is mid-exchange."""
        reached = event.wait(WAIT)
        self.process.kill()
        self.finish()
        assert reached, f"the sender never reached the receiver:\n{self.output}"
