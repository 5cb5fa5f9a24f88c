"""A fake Twilio REST API on loopback, so the real ``twilio`` client can be tested offline.

It accepts Messages.json posts like Twilio does, records them, and can be told to
answer the next few with a 500 (or any status) to test retries.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.loopback import LoopbackServer, read_body, reply_json


class FakeTwilio(LoopbackServer):
    """Start with ``with FakeTwilio() as fake:``; ``fake.base_url`` goes to the client."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, str]] = []
        self.failures: list[int] = []

    @property
    def base_url(self) -> str:
        return self.origin

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.failures.extend(statuses)

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        form = {k: v[0] for k, v in parse_qs(read_body(request).decode()).items()}
        with self.lock:
            status = self.failures.pop(0) if self.failures else 201
            if status == 201:
                self.sent.append(form)
                sid = f"SM{len(self.sent):032d}"
        if status != 201:
            body: dict[str, Any] = {
                "code": 20500, "message": "Internal Server Error", "status": status,
            }  # fmt: skip
        else:
            body = {
                "sid": sid, "status": "queued", "to": form.get("To"),
                "from": form.get("From"), "body": form.get("Body"),
                "account_sid": request.path.split("/")[3], "num_segments": "1",
            }  # fmt: skip
        reply_json(request, status, body)
