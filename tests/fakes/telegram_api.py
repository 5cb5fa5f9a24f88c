"""A fake Telegram Bot API on loopback, so python-telegram-bot can be tested offline.

It answers ``/bot<token>/<method>`` like Telegram (``{"ok": true, "result": ...}``), records
every call (a file sent in a multipart form, such as a voice message, as an ``Upload``),
hands out queued updates to ``getUpdates``, and can be told to answer the next few
``sendMessage`` calls with a 429 (retry after) or a 403 (blocked by the user).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.loopback import LoopbackServer, read_body, reply_json

TOO_MANY = (
    429,
    {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    },
)
SERVER_ERROR = (500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
BLOCKED = (
    403,
    {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
)


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart form: its file name, content type and bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request to the fake: its method, parameters (as sent) and when it came."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int = 200

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id"))

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """The inline keyboard as (title, callback_data) pairs, row by row."""
        markup = self.params.get("reply_markup")
        markup = json.loads(markup) if isinstance(markup, str) else markup or {}
        rows = markup.get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


class FakeTelegram(LoopbackServer):
    """Start with ``with FakeTelegram(token) as fake:``; ``fake.base_url`` goes to the Bot."""

    def __init__(self, token: str = "123:ABC") -> None:  # noqa: S107 (a test token)
        super().__init__()
        self.token = token
        self.calls: list[Call] = []
        self.failures: list[tuple[str | None, tuple[int, dict[str, Any]]]] = []
        self.updates: list[dict[str, Any]] = []
        self.slow: dict[str, float] = {}  # method -> seconds it takes to answer
        self._message_id = 0

    @property
    def base_url(self) -> str:
        return f"{self.origin}/bot"

    def fail_next(
        self,
        count: int,
        failure: tuple[int, dict[str, Any]] = TOO_MANY,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``count`` sendMessage calls (to ``chat_id``, or any chat) with
        ``failure``: TOO_MANY (429, retry after 1 s), BLOCKED (403) or SERVER_ERROR (500)."""
        chat = None if chat_id is None else str(chat_id)
        with self.lock:
            self.failures.extend([(chat, failure)] * count)

    def queue_update(self, update: dict[str, Any]) -> None:
        with self.lock:
            self.updates.append(update)

    def calls_to(self, method: str, chat_id: int | str | None = None) -> list[Call]:
        with self.lock:
            return [
                c
                for c in self.calls
                if c.method == method and (chat_id is None or c.chat_id == str(chat_id))
            ]

    def sent_to(self, chat_id: int | str) -> list[Call]:
        """The sendMessage calls that Telegram accepted for ``chat_id``, in order."""
        return [c for c in self.calls_to("sendMessage", chat_id) if c.status == 200]

    def wait_for(self, check: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Poll ``check`` until it returns something truthy or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.1)

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        prefix = f"/bot{self.token}/"
        params = _parse(request.headers.get("Content-Type", ""), read_body(request))
        if not request.path.startswith(prefix):
            reply_json(
                request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            )
            return
        method = request.path.removeprefix(prefix)
        if method == "getUpdates" and not self.updates:
            time.sleep(min(float(params.get("timeout") or 0), 1.0))
        time.sleep(self.slow.get(method, 0.0))
        with self.lock:
            status, body = self._result(method, params)
            self.calls.append(Call(method, params, status=status))
        reply_json(request, status, body)

    def _result(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "sendMessage":
            for index, (chat, failure) in enumerate(self.failures):
                if chat in (None, str(params.get("chat_id"))):
                    del self.failures[index]
                    return failure
        if method in ("sendMessage", "sendVoice", "sendDocument"):
            self._message_id += 1
            message: dict[str, Any] = {
                "message_id": self._message_id,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": {"id": 123, "is_bot": True, "first_name": "Helper"},
            }
            if method == "sendMessage":
                message["text"] = params.get("text", "")
            if method == "sendVoice":
                message["voice"] = {"file_id": "v1", "file_unique_id": "v1", "duration": 1}
            if method == "sendDocument":
                message["document"] = {"file_id": "d1", "file_unique_id": "d1"}
            if params.get("reply_markup"):
                message["reply_markup"] = json.loads(params["reply_markup"])
            return 200, {"ok": True, "result": message}
        if method == "getMe":
            user = {"id": 123, "is_bot": True, "first_name": "Helper", "username": "helper_bot"}
            return 200, {"ok": True, "result": user}
        if method == "getUpdates":
            updates, self.updates = self.updates, []
            return 200, {"ok": True, "result": updates}
        return 200, {"ok": True, "result": True}  # answerCallbackQuery, setWebhook, ...


def _parse(content_type: str, raw: bytes) -> dict[str, Any]:
    """Parameters as python-telegram-bot sends them: a form (or JSON) of strings."""
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(raw))
    if content_type.startswith("multipart/form-data"):
        header = f"Content-Type: {content_type}\r\n\r\n".encode()
        form = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + raw)
        params: dict[str, Any] = {}
        for part in form.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is None:
                params[str(name)] = data.decode()
            else:
                params[str(name)] = Upload(filename, part.get_content_type(), data)
        return params
    return {key: values[0] for key, values in parse_qs(raw.decode()).items()}
