"""The thin receiver: the SMS, WhatsApp and Telegram webhooks in a small process without
the language model, so they are answered fast while the Rasa servers are busy.

    python -m channels.receiver            # port RECEIVER_PORT (5006)

It mounts the same connectors at the same paths (``/webhooks/sms/webhook``,
``/webhooks/sms/status``, ``/webhooks/whatsapp/webhook``, ``/webhooks/telegram/webhook``)
and runs the same pipeline (:mod:`channels.pipeline`: verified, stored, de-duplicated,
STOP / HELP / flood, crisis pre-check, acknowledged, answered, recovered after a restart).
Only the turn itself is elsewhere: :class:`RemoteAgent` posts it to a Rasa server's turn
endpoint (:mod:`channels.turn`, ``RASA_TURN_URL``, with ``TURN_TOKEN``) over one pooled
HTTP session and hands each message of the answer to the channel's own collector. A Rasa
server that errs, fails an action or does not answer within ``RASA_TURN_TIMEOUT`` seconds
makes the turn raise, so the pipeline's retries, apology and emergency reply work as in
one process. ``GET /health`` answers when the process does.

The phone line (``/webhooks/voice/``) and the web chat stay on the Rasa servers. Where the
receiver runs, the Rasa servers run without these three channels
(``credentials.production.yml``), so each channel's restart sweep runs in the receivers
alone; and a sweep claims each message with a conditional update
(:func:`bot.contacts.claim_unanswered`), so even two sweeping processes take it once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, exit_if_unsafe, load_settings
from bot.safety import check_message
from channels.sms import SmsInput
from channels.telegram import TelegramInput
from channels.whatsapp import WhatsAppInput

log = logging.getLogger(__name__)

# The slots a channel reads back after its turn (Telegram's "read it to me").
SLOTS_FOR = {"telegram": ["read_aloud"]}


class TurnFailed(RuntimeError):
    """The Rasa server did not answer the turn (error, failed action, time-out, refused)."""


@dataclass(frozen=True)
class SlotsSeen:
    """The slots one turn sent back, read as a tracker is (``get_slot``)."""

    slots: dict[str, Any]

    def get_slot(self, name: str) -> Any:
        return self.slots.get(name)


@dataclass
class LastSlots:
    """Stands where the channels find Rasa's tracker store: each sender's slots as their
    last turn sent them back. Turns of one sender run one at a time, and the Telegram
    adapter reads ``read_aloud`` right after its turn, so that is the current value."""

    limit: int = 10_000
    seen: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)

    def keep(self, sender: str, slots: dict[str, Any]) -> None:
        self.seen[sender] = slots
        self.seen.move_to_end(sender)
        while len(self.seen) > self.limit:
            self.seen.popitem(last=False)

    async def retrieve(self, sender: str) -> SlotsSeen | None:
        slots = self.seen.get(sender)
        return None if slots is None else SlotsSeen(slots)


class RemoteAgent:
    """Rasa's agent as the connectors use it (``app.ctx.agent``): ``handle_message`` runs
    the turn on a Rasa server, over HTTP."""

    def __init__(self, url: str, token: str, timeout: float, connections: int = 200) -> None:
        self.url, self.token, self.timeout = url, token, timeout
        self.connections = connections
        self.tracker_store = LastSlots()
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """One pooled session for every turn (made in the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"Authorization": f"Bearer {self.token}"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def handle_message(self, message: UserMessage) -> None:
        """Run ``message``'s turn on a Rasa server; give its messages to the message's own
        output channel. Raises :class:`TurnFailed` when there is no answer to give."""
        sender = str(message.sender_id)
        channel = str(message.input_channel or "")
        body = {
            "sender": sender, "text": message.text, "input_channel": channel,
            "metadata": message.metadata, "message_id": message.message_id,
        }  # fmt: skip
        if SLOTS_FOR.get(channel):
            body["slots"] = SLOTS_FOR[channel]
        try:
            async with self.session.post(self.url, json=body) as reply:
                status, raw = reply.status, await reply.read()
        except asyncio.TimeoutError as error:
            raise TurnFailed(f"no answer from Rasa within {self.timeout:g} s") from error
        except aiohttp.ClientError as error:
            raise TurnFailed(f"Rasa could not be reached: {error!r:.150}") from error
        try:
            answer = json.loads(raw)
        except ValueError:  # not JSON (or not UTF-8): a proxy's error page, say
            answer = None
        if not isinstance(answer, dict):
            raise TurnFailed(f"Rasa answered {status}, not with a turn's JSON")
        if status != 200:
            problem = f"{answer.get('error')}: {answer.get('detail') or ''}"
            raise TurnFailed(f"Rasa answered {status}: {problem:.200}")
        messages = answer.get("messages")
        if not isinstance(messages, list):
            raise TurnFailed("Rasa's answer has no messages list")
        if isinstance(answer.get("slots"), dict):
            self.tracker_store.keep(sender, answer["slots"])
        for sent in messages:
            if isinstance(sent, dict):
                # send_response as Rasa calls it: the collector splits or keeps as it does
                replay = {k: v for k, v in sent.items() if k != "recipient_id"}
                await message.output_channel.send_response(sender, replay)


def receiver_channels(settings: Settings) -> list[InputChannel]:
    """The channels the receiver serves (the phone line stays on the Rasa servers)."""
    return [SmsInput(settings), WhatsAppInput(settings), TelegramInput(settings)]


def make_app(
    settings: Settings,
    agent: RemoteAgent | None = None,
    channels: Sequence[InputChannel] | None = None,
    name: str = "receiver",
) -> Sanic:
    """The receiver's Sanic app: the channels under /webhooks/, their turns by ``agent``."""
    app = Sanic(name)
    app.config.KEEP_ALIVE_TIMEOUT = 75  # behind HAProxy, whose idle connections it reuses
    remote = agent or RemoteAgent(
        settings.rasa_turn_url, settings.turn_token, settings.rasa_turn_timeout
    )
    app.ctx.agent = remote
    served = list(channels if channels is not None else receiver_channels(settings))
    register(served, app, route="/webhooks/")

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        return response.json({"status": "ok", "channels": [c.name() for c in served]})

    async def warm_up(_app: Sanic, _loop: Any) -> None:
        # The crisis detector's model, loaded before the first webhook (not during it).
        await asyncio.to_thread(check_message, "hello")

    async def close(_app: Sanic, _loop: Any) -> None:
        await remote.close()

    app.register_listener(warm_up, "before_server_start")
    app.register_listener(close, "after_server_stop")
    return app


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=settings.receiver_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    exit_if_unsafe(settings)
    if not settings.turn_token:
        print(
            "TURN_TOKEN is not set: the receiver runs each turn on a Rasa server with it. "
            "Set the same TURN_TOKEN for the Rasa servers and the receiver (see .env.example).",
            file=sys.stderr,
        )
        return 1
    log.info("receiver: turns go to %s", settings.rasa_turn_url)
    make_app(settings).run(host=args.host, port=args.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
