"""A small web chat page, served by the Rasa server, that talks to Rasa's REST channel.

Open http://localhost:5005/webhooks/webchat/ . Replies are shown as text, never as HTML.
Every answer has a Listen button: the page posts the answer's text to ``/listen``, which
makes one audio file for it (only for words the assistant really said in that chat) and
returns its address under ``/audio/``. With "Read answers out loud" ticked (or after the
person says "read it to me"), each new answer plays by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, load_settings
from bot.speech.config import SpeechSettings
from channels.audio import ReplyAudio, audio_response

log = logging.getLogger(__name__)
PAGE = Path(__file__).resolve().parent / "static" / "webchat.html"
MAX_SENDER, MAX_TEXTS, MAX_TEXT = 128, 10, 5000
RECENT_EVENTS = 200
NOT_SAID = "I can only read out answers I gave in this chat."
NO_AUDIO = "Sorry, I cannot make the sound right now. Please read the answer on the screen."
BAD_REQUEST = "Please send the sender and the texts to read."


def answers_said(events: list[Any], texts: list[str]) -> tuple[list[dict[str, Any]], str] | None:
    """The bot messages matching ``texts`` (with their buttons) and what the person wrote
    just before the last of them; None if any text is not something the bot said in ``events``.

    Rasa's REST channel sends a text without buttons in parts split at blank lines, so a
    part of a bot message counts as said too.
    """
    found: dict[str, tuple[dict[str, Any], str]] = {}
    last_user = ""
    for event in events[-RECENT_EVENTS:]:
        if isinstance(event, UserUttered):
            last_user = event.text or ""
        elif isinstance(event, BotUttered) and event.text:
            found[event.text] = ({"text": event.text, **event.data}, last_user)
            for part in event.text.strip().split("\n\n"):
                found.setdefault(part, ({"text": part}, last_user))
    if any(text not in found for text in texts):
        return None
    messages = [found[text][0] for text in texts]
    return messages, found[texts[-1]][1]


def listen_request(body: Any) -> tuple[str, list[str]] | None:
    """The sender and texts of a listen request; None unless both are present and sensible."""
    if not isinstance(body, dict):
        return None
    sender, texts = body.get("sender"), body.get("texts")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER:
        return None
    if not isinstance(texts, list) or not 0 < len(texts) <= MAX_TEXTS:
        return None
    if not all(isinstance(t, str) and 0 < len(t) <= MAX_TEXT for t in texts):
        return None
    return sender, texts


class WebChatInput(InputChannel):
    """Serves the chat page and its answers' audio; messages go through the REST channel."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        return cls(load_settings())

    def __init__(self, settings: Settings, speech: SpeechSettings | None = None) -> None:
        self.audio = ReplyAudio(settings, speech)

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

        @webchat.route("/listen", methods=["POST"])
        async def listen(request: Request) -> HTTPResponse:
            return await self.listen(request)

        @webchat.route("/audio/<name>", methods=["GET"])
        async def audio(request: Request, name: str) -> HTTPResponse:
            return await audio_response(self.audio.cache, name, request)

        @webchat.listener("before_server_stop")
        async def finish(_app: Any, _loop: Any) -> None:
            self.audio.listener.close()

        return webchat

    async def listen(self, request: Request) -> HTTPResponse:
        """Make the audio for answers the assistant gave this sender; return its address."""
        try:
            asked = listen_request(request.json)
        except Exception:  # not JSON at all
            asked = None
        if asked is None:
            return response.json({"message": BAD_REQUEST}, status=400)
        sender, texts = asked
        try:
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        except Exception:
            log.exception("webchat: could not read the conversation to read it out")
            return response.json({"message": NO_AUDIO}, status=503)
        said = answers_said(list(tracker.events), texts) if tracker is not None else None
        if said is None:
            return response.json({"message": NOT_SAID}, status=404)
        rendered = await self.audio.for_messages(*said)
        if rendered.audio is None:
            log.warning("webchat: no audio for an answer: %s", "; ".join(rendered.reasons))
            return response.json({"message": NO_AUDIO}, status=503)
        audio = rendered.audio
        url = f"/webhooks/webchat/audio/{audio.filename}"
        return response.json({"url": url, "type": audio.content_type, "engine": audio.engine})
