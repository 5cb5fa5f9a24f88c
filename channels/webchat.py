"""A small web chat page, served by the Rasa server, that talks to Rasa's REST channel.

Open http://localhost:5005/webhooks/webchat/ . Replies are shown as text, never as HTML.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

PAGE = Path(__file__).resolve().parent / "static" / "webchat.html"


class WebChatInput(InputChannel):
    """Serves the chat page; messages go through the REST channel."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat_page", __name__)

        @webchat.route("/", methods=["GET"])
        async def page(_request: Request) -> HTTPResponse:
            return response.html(
                PAGE.read_text(encoding="utf-8"),
                headers={
                    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                    "script-src 'unsafe-inline'",
                    "Cache-Control": "no-cache",
                },
            )

        return webchat
