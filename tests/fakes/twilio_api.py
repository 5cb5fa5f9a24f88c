"""A fake Twilio REST API on loopback, so the real ``twilio`` client can be tested offline.

It accepts Messages.json posts like Twilio does, records them, and can be told to
answer the next few with a 500 (or any status) to test retries.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class FakeTwilio:
    """Start with ``with FakeTwilio() as fake:``; ``fake.base_url`` goes to the client."""

    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []
        self.failures: list[int] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake.lock:
                    status = fake.failures.pop(0) if fake.failures else 201
                    if status == 201:
                        fake.sent.append(form)
                        sid = f"SM{len(fake.sent):032d}"
                if status != 201:
                    body: dict[str, Any] = {
                        "code": 20500, "message": "Internal Server Error", "status": status,
                    }  # fmt: skip
                else:
                    body = {
                        "sid": sid, "status": "queued", "to": form.get("To"),
                        "from": form.get("From"), "body": form.get("Body"),
                        "account_sid": self.path.split("/")[3], "num_segments": "1",
                    }  # fmt: skip
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(self, *statuses: int) -> None:
        with self.lock:
            self.failures.extend(statuses)

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
