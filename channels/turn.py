"""One conversation turn over HTTP, for the thin receiver (:mod:`channels.receiver`).

``POST /webhooks/turn/webhook`` with ``Authorization: Bearer <TURN_TOKEN>`` and the JSON
body ``{"sender", "text", "input_channel", "metadata"}`` (and optionally ``message_id``,
and ``slots``: slot names to read back, only ``read_aloud``) runs the turn exactly as a
channel in this server would: ``on_new_message(UserMessage(text, collector, sender,
input_channel=..., metadata=...))``. It answers ``{"messages": [...]}``: each bot message
whole, as Rasa handed it to the output channel (the receiver gives each to the channel's
own collector, which splits or keeps it as it does in one process), and ``"slots"`` when
asked for.

- 200: the turn went well.
- 502: an action failed (Rasa logs it and carries on, "Bot will continue, but the actions
  events are lost"): not an answer; the receiver's pipeline tries again, as in one process.
- 500: the turn raised. 400: the body is not what is described above.
- 401: no bearer token; 403: a wrong one, or no ``TURN_TOKEN`` set here (then the endpoint
  is closed to everyone).

The sender and the input channel are taken from the body, so only the holder of the token
may call it: the receiver, which has verified the Twilio signature or Telegram secret and
made the pseudonym itself. The token is compared in constant time.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, load_settings
from channels.pipeline import noted
from channels.rest import bearer_token

log = logging.getLogger(__name__)

CHANNEL = "turn"
RETURNED_SLOTS = frozenset({"read_aloud"})  # what a channel may read back after its turn
INPUT_CHANNEL = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_SENDER = 255
_dumps = partial(json.dumps, default=str, ensure_ascii=False)


class TurnCollector(CollectingOutputChannel):
    """Keeps each bot message whole, as Rasa sent it (Rasa's collector splits text at blank
    lines: the receiving channel's own collector does that, or not, when it is replayed)."""

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        kept = {k: v for k, v in message.items() if v is not None}
        await self._persist_message({"recipient_id": recipient_id, **kept})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._persist_message(self._message(recipient_id, text=text))


class BadTurn(ValueError):
    """The request body is not a turn."""


@dataclass(frozen=True)
class Turn:
    """What a request asks for: the user message, its collector, the slots to read back."""

    message: UserMessage
    collector: TurnCollector
    slots: list[str]


def read_turn(body: Any) -> Turn:
    """The turn a body describes, with a fresh collector; raises :class:`BadTurn` saying
    what is wrong."""
    if not isinstance(body, dict):
        raise BadTurn("the body must be a JSON object")
    sender, text, channel = body.get("sender"), body.get("text"), body.get("input_channel")
    metadata, message_id, slots = body.get("metadata"), body.get("message_id"), body.get("slots")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER:
        raise BadTurn("sender must be a string of 1 to 255 characters")
    if not isinstance(text, str):
        raise BadTurn("text must be a string")
    if not isinstance(channel, str) or not INPUT_CHANNEL.fullmatch(channel):
        raise BadTurn("input_channel must be a channel's name (a-z, 0-9, _)")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadTurn("metadata must be an object or null")
    if message_id is not None and not isinstance(message_id, str):
        raise BadTurn("message_id must be a string or null")
    if slots is None:
        slots = []
    if not isinstance(slots, list) or not set(slots) <= RETURNED_SLOTS:
        raise BadTurn(f"slots may only name {', '.join(sorted(RETURNED_SLOTS))}")
    collector = TurnCollector()
    message = UserMessage(
        text, collector, sender, input_channel=channel, message_id=message_id,
        metadata=metadata,
    )  # fmt: skip
    return Turn(message, collector, list(slots))


class TurnInput(InputChannel):
    """The turn endpoint: closed unless ``TURN_TOKEN`` is set, then open to its holder."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TurnInput:
        return cls(load_settings())

    def __init__(self, settings: Settings) -> None:
        self.token = settings.turn_token

    def refusal(self, request: Request) -> HTTPResponse | None:
        """401 or 403 unless the request carries this server's token; None if it does."""
        if not self.token:
            return response.json({"error": "closed: TURN_TOKEN is not set"}, status=403)
        given = bearer_token(request)
        if not given:
            return response.json(
                {"error": "Authorization: Bearer <TURN_TOKEN> is required"}, status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )  # fmt: skip
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            log.warning("turn: refused a request with a wrong token")
            return response.json({"error": "wrong token"}, status=403)
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("turn_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "open": bool(self.token)})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = self.refusal(request)
            if refused is not None:
                return refused
            try:
                turn = read_turn(json.loads(request.body or b"null"))
            except ValueError as problem:  # not JSON (or not UTF-8), or not a turn
                detail = str(problem) if isinstance(problem, BadTurn) else "the body is not JSON"
                return response.json({"error": detail}, status=400)
            return await self.run(request, turn, on_new_message)

        return webhook

    async def run(
        self, request: Request, turn: Turn, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Run the turn in a task of its own (cancelled if the caller hangs up)."""
        message = turn.message
        failures: list[str] = []
        try:
            await asyncio.ensure_future(noted(on_new_message, message, failures))
        except Exception as error:
            log.exception("turn: the turn for %s failed", message.sender_id)
            return response.json(
                {"error": "the turn failed", "detail": repr(error)[:200]}, status=500
            )
        if failures:
            log.error("turn: an action failed for %s: %s", message.sender_id, failures[0])
            return response.json({"error": "an action failed", "detail": failures[0]}, status=502)
        answer: dict[str, Any] = {"messages": turn.collector.messages}
        if turn.slots:
            answer["slots"] = await self.read_slots(request, str(message.sender_id), turn.slots)
        return response.json(answer, dumps=_dumps)

    @staticmethod
    async def read_slots(request: Request, sender: str, names: list[str]) -> dict[str, Any]:
        """The named slots as the turn left them in the tracker store (None for each if it
        cannot be read: the turn itself went well)."""
        tracker = None
        try:
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        except Exception:
            log.exception("turn: could not read the slots of %s", sender)
        return {name: tracker.get_slot(name) if tracker is not None else None for name in names}
