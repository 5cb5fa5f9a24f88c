"""A small web chat page, served by the Rasa server, with its own message endpoint.

Open http://localhost:5005/webhooks/webchat/ . The server gives the page a conversation
id in a signed, HttpOnly cookie (``channels/webchat_session.py``); the page posts each
message to ``/webhooks/webchat/message`` and never names a sender itself. Replies are
shown as text, never as HTML. Every answer has a Listen button: the page posts the
answer's text to ``/listen``, which makes one audio file for it (only for words the
assistant really said in that conversation) and returns its address under ``/audio/``.
With "Read answers out loud" ticked (or after the person says "read it to me"), each new
answer plays by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, exit_if_unsafe, load_settings
from bot.speech.config import SpeechSettings
from channels.audio import ReplyAudio, audio_response
from channels.webchat_session import ConversationCookie

log = logging.getLogger(__name__)
PAGE = Path(__file__).resolve().parent / "static" / "webchat.html"
CHANNEL = "webchat"
MAX_TEXTS, MAX_TEXT, MAX_MESSAGE = 10, 5000, 5000
RECENT_EVENTS = 200
NOT_SAID = "I can only read out answers I gave in this chat."
NO_AUDIO = "Sorry, I cannot make the sound right now. Please read the answer on the screen."
BAD_REQUEST = "Please send the texts to read."
BAD_MESSAGE = "Please send a message of up to 5000 characters."
NO_CHAT = "Please open the chat page again."
NOT_NOW = "Sorry, I cannot answer right now. Please try again in a minute."
CROSS_SITE = "Messages are only taken from the chat page itself."


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


def listen_request(body: Any) -> list[str] | None:
    """The texts of a listen request; None unless there are one to ten sensible ones."""
    texts = body.get("texts") if isinstance(body, dict) else None
    if not isinstance(texts, list) or not 0 < len(texts) <= MAX_TEXTS:
        return None
    if not all(isinstance(t, str) and 0 < len(t) <= MAX_TEXT for t in texts):
        return None
    return texts


def message_text(body: Any) -> str | None:
    """The text of a chat message; None unless it is a string of 1 to 5000 characters."""
    text = body.get("message") if isinstance(body, dict) else None
    if not isinstance(text, str) or not 0 < len(text.strip()) or len(text) > MAX_MESSAGE:
        return None
    return text


def same_site(request: Request, public_url: str) -> bool:
    """True unless the browser says the request came from another site's page."""
    origin = request.headers.get("Origin")
    if not origin:
        return True
    host = urlsplit(origin).netloc
    return host in (request.host, urlsplit(public_url).netloc)


class WebChatInput(InputChannel):
    """Serves the chat page, takes its messages in the cookie's conversation, and makes
    its answers' audio."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        settings = load_settings()
        exit_if_unsafe(settings)
        return cls(settings)

    def __init__(self, settings: Settings, speech: SpeechSettings | None = None) -> None:
        self.settings = settings
        self.audio = ReplyAudio(settings, speech)
        self.cookie = ConversationCookie(settings)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat_page", __name__)

        @webchat.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            page = response.html(
                PAGE.read_text(encoding="utf-8"),
                headers={
                    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                    "script-src 'unsafe-inline'",
                    "Cache-Control": "no-cache",
                },
            )
            conversation, new = self.cookie.conversation(request)
            return self.cookie.give(page, conversation) if new else page

        @webchat.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            return await self.message(request, on_new_message)

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

    async def message(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """One message from the page: a turn in the cookie's conversation (a new one, with
        its cookie, if there is none); the bot's messages as JSON, as Rasa's REST gives."""
        if not same_site(request, self.settings.public_url):
            return response.json({"message": CROSS_SITE}, status=403)
        text = message_text(_json(request))
        if text is None:
            return response.json({"message": BAD_MESSAGE}, status=400)
        conversation, new = self.cookie.conversation(request)
        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(text, collector, conversation, input_channel=CHANNEL))
        except Exception:
            log.exception("webchat: the turn failed")
            return response.json({"message": NOT_NOW}, status=503)
        reply = response.json(collector.messages)
        return self.cookie.give(reply, conversation) if new else reply

    async def listen(self, request: Request) -> HTTPResponse:
        """Make the audio for answers the assistant gave in this conversation; return its
        address."""
        if not same_site(request, self.settings.public_url):
            return response.json({"message": CROSS_SITE}, status=403)
        texts = listen_request(_json(request))
        if texts is None:
            return response.json({"message": BAD_REQUEST}, status=400)
        sender = self.cookie.read(request)
        if sender is None:
            return response.json({"message": NO_CHAT}, status=403)
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


def _json(request: Request) -> Any:
    try:
        return request.json
    except Exception:  # not JSON at all
        return None
