"""Rasa's REST channel, guarded, at the same address: POST /webhooks/rest/webhook.

The REST channel lets the caller name any sender id, so it is for developers and our own
tools only. It answers anyone when ``APP_ENV=development`` (``make run`` and the tests set
it); otherwise only a request with ``Authorization: Bearer <REST_TOKEN>`` (401 without;
with no ``REST_TOKEN`` set it is closed). Whatever the body says, the input channel is
"rest": a request never passes itself off as SMS or Telegram. Families use the web chat,
which gets its own signed conversation id (``channels/webchat.py``).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, exit_if_unsafe, load_settings

CHANNEL = "rest"
REFUSED = "The REST channel is for development. Elsewhere, send Authorization: Bearer <REST_TOKEN>."


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer ...`` header, or ""."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class GuardedRestInput(RestInput):
    """Rasa's RestInput, open in development or to the holder of ``REST_TOKEN``."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GuardedRestInput:
        settings = load_settings()
        exit_if_unsafe(settings)  # the Rasa server always loads this channel: one check
        return cls(settings)

    def __init__(self, settings: Settings) -> None:
        self.open = settings.development
        self.token = settings.rest_token

    def allowed(self, request: Request) -> bool:
        if self.open:
            return True
        given = bearer_token(request)
        return bool(self.token and given) and hmac.compare_digest(
            given.encode(), self.token.encode()
        )

    def _extract_input_channel(self, req: Request) -> str:
        return CHANNEL  # never what the request body claims

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = super().blueprint(on_new_message)

        @rest.middleware("request")
        async def guard(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and not self.allowed(request):
                return response.json(
                    {"message": REFUSED}, status=401, headers={"WWW-Authenticate": "Bearer"}
                )
            return None

        return rest
