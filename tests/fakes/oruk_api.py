"""A fake Open Referral API on loopback: ``GET /services?page=N&per_page=M``.

It pages a list of services the way real feeds do, as HSDS 3.0 (``contents``,
``total_pages``, ``last_page``) or ORUK 1.x (``content``, ``totalPages``, ``last``), and
can be told to fail a page (an HTTP status, a slow answer, or not JSON) a number of times,
so the importer's retries and its all-or-nothing rule can be tested for real.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.loopback import LoopbackServer, reply_json


@dataclass
class Failure:
    page: int
    times: int  # how many requests for that page fail before it answers
    status: int = 500  # 0: answer slowly (after ``delay`` seconds) instead
    delay: float = 0.0
    body: bytes | None = None  # a 200 answer with this body (e.g. not JSON)


class FakeOpenReferral(LoopbackServer):
    """Start with ``with FakeOpenReferral(services) as api:``; import ``api.services_url``."""

    def __init__(self, services: list[dict[str, Any]], style: str = "hsds3", size: int = 2):
        super().__init__()
        self.services = services
        self.style = style
        self.size = size
        self.failures: list[Failure] = []
        self.requests: list[str] = []

    @property
    def services_url(self) -> str:
        return f"{self.origin}/services"

    def fail(self, page: int, times: int = 1, status: int = 500, **kwargs: Any) -> None:
        with self.lock:
            self.failures.append(Failure(page, times, status, **kwargs))

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append(request.path)
        if parts.path != "/services":
            reply_json(request, 404, {"error": "not found"})
            return
        page = int(query.get("page", "1"))
        size = int(query.get("per_page", str(self.size)))
        failure = self._failure(page)
        if failure is not None:
            if failure.body is not None:
                request.send_response(200)
                request.send_header("Content-Type", "text/html")
                request.end_headers()
                request.wfile.write(failure.body)
                return
            if failure.status:
                reply_json(request, failure.status, {"error": "server error"})
                return
            time.sleep(failure.delay)
        reply_json(request, 200, self.page(page, size))

    def _failure(self, page: int) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.page == page and failure.times > 0:
                    failure.times -= 1
                    return failure
        return None

    def page(self, page: int, size: int) -> dict[str, Any]:
        total_pages = max(1, math.ceil(len(self.services) / size))
        items = self.services[(page - 1) * size : page * size]
        if self.style == "oruk1":
            return {
                "totalElements": len(self.services), "totalPages": total_pages,
                "number": page, "size": size, "first": page == 1,
                "last": page >= total_pages, "content": items,
            }  # fmt: skip
        return {
            "total_items": len(self.services), "total_pages": total_pages, "page_number": page,
            "size": size, "first_page": page == 1, "last_page": page >= total_pages,
            "empty": not items, "contents": items,
        }  # fmt: skip


def page_services(*documents: str | bytes) -> list[dict[str, Any]]:
    """The services of saved pages (``tests/data/openreferral``), in order."""
    services: list[dict[str, Any]] = []
    for document in documents:
        data = json.loads(document)
        services.extend(data.get("contents") or data.get("content") or [])
    return services
