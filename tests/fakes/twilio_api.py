"""A fake Twilio REST API on loopback, so the real ``twilio`` client can be tested offline.

It accepts Messages.json posts like Twilio does, records them, lists them (newest first)
as ``GET Messages.json`` does, and deletes recordings and messages (``DELETE
.../Recordings/RE....json``, recorded in ``deleted``). It can be told to answer the next
few posts with a 500 (or any status, or a ``(status, code)`` pair such as ``(400, 21610)``),
or to make the next message and then hold the answer (``hang_next``), as when a worker
dies while Twilio is creating its message.
"""

from __future__ import annotations

import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.loopback import LoopbackServer, read_body, reply_json

MESSAGES = {
    20500: "Internal Server Error",
    21610: "Attempt to send to unsubscribed recipient",
    21211: "The 'To' number is not a valid phone number.",
    63016: "Failed to send freeform message because you are outside the allowed window.",
}


class FakeTwilio(LoopbackServer):
    """Start with ``with FakeTwilio() as fake:``; ``fake.base_url`` goes to the client."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, str]] = []
        self.created: list[dict[str, Any]] = []  # as Twilio keeps them (sid, date, ...)
        self.failures: list[int | tuple[int, int]] = []
        self.deleted: list[str] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every call
        self.hangs: list[float] = []
        self.released = threading.Event()
        self.delay = 0.0  # seconds every new message takes to be answered (a slow Twilio)

    @property
    def base_url(self) -> str:
        return self.origin

    def fail_next(self, *statuses: int | tuple[int, int]) -> None:
        with self.lock:
            self.failures.extend(statuses)

    def hang_next(self, seconds: float) -> None:
        """Make the next message, then wait ``seconds`` (or until ``release``) to answer."""
        with self.lock:
            self.hangs.append(seconds)

    def release(self) -> None:
        self.released.set()

    def __exit__(self, *exc: object) -> None:
        self.release()
        super().__exit__(*exc)

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        url = urlparse(request.path)
        with self.lock:
            self.requests.append((request.command, url.path))
        if request.command == "DELETE":
            self._delete(request, url.path)
        elif request.command == "GET":
            self._list(request, parse_qs(url.query))
        else:
            self._create(request)

    def _delete(self, request: BaseHTTPRequestHandler, path: str) -> None:
        sid = path.rsplit("/", 1)[-1].removesuffix(".json")
        with self.lock:
            status = self.failures.pop(0) if self.failures else 204
            if status == 204:
                self.deleted.append(sid)
        if status == 204:
            request.send_response(204)
            request.end_headers()
            return
        self._error(request, status)

    def _list(self, request: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        to, sender = query.get("To", [None])[0], query.get("From", [None])[0]
        with self.lock:
            found = [
                m
                for m in reversed(self.created)
                if (to is None or m["to"] == to) and (sender is None or m["from"] == sender)
            ]
        size = int(query.get("PageSize", ["50"])[0])
        reply_json(
            request,
            200,
            {"messages": found[:size], "next_page_uri": None, "page": 0, "page_size": size,
             "uri": request.path, "first_page_uri": request.path, "previous_page_uri": None,
             "start": 0, "end": len(found[:size])},
        )  # fmt: skip

    def _create(self, request: BaseHTTPRequestHandler) -> None:
        form = {k: v[0] for k, v in parse_qs(read_body(request).decode()).items()}
        with self.lock:
            status = self.failures.pop(0) if self.failures else 201
            hang = self.hangs.pop(0) if self.hangs and status == 201 else 0.0
            if status == 201:
                self.sent.append(form)
                sid = f"SM{len(self.sent):032d}"
                body = {
                    "sid": sid, "status": "queued", "to": form.get("To"),
                    "from": form.get("From"), "body": form.get("Body"),
                    "account_sid": request.path.split("/")[3], "num_segments": "1",
                    "date_created": formatdate(time.time(), usegmt=True),
                    "date_sent": None,
                }  # fmt: skip
                self.created.append(body)
        if status != 201:
            self._error(request, status)
            return
        if hang or self.delay:
            self.released.wait(hang or self.delay)
        reply_json(request, 201, body)

    @staticmethod
    def _error(request: BaseHTTPRequestHandler, failure: int | tuple[int, int]) -> None:
        status, code = failure if isinstance(failure, tuple) else (failure, 20500)
        reply_json(
            request,
            status,
            {"code": code, "message": MESSAGES.get(code, "Error"), "status": status},
        )
