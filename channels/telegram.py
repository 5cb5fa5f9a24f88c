"""Telegram: a Rasa connector at /webhooks/telegram/webhook, built on python-telegram-bot.

Each update must carry the ``X-Telegram-Bot-Api-Secret-Token`` header set with
``setWebhook`` (403 if missing or wrong). It is stored and de-duplicated by ``update_id``,
acknowledged at once, and handled in a background task, one turn at a time per chat.
Rasa only ever sees a pseudonym ("telegram-3f2a..."); the chat id lives in ``contacts``.
Replies go straight out through the Bot API with their inline keyboards, spaced out, and
waiting out Telegram's 429 "retry after". Only private chats are answered.

Commands: /start (hello, and opts back in), /help (topics), /stop (no more messages until
/start), /delete (delete my data, after a confirmation), /listen (each answer comes as a
voice message too; "read it to me" does the same) and /text (text only again).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine
from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from bot import contacts
from bot.config import Settings, load_settings
from bot.db import shared_engine
from bot.notify.outbox import PermanentFailure, TemporaryFailure, enqueue
from bot.privacy import pseudonymise
from bot.speech.config import SpeechSettings
from bot.text import clean_input
from channels.audio import ReplyAudio
from channels.pipeline import Fixed, Job, Keyword, Kind, Message, Pipeline, Status, save_menu
from channels.pipeline import Inbound as Incoming
from channels.telegram_render import (
    CALLBACK_DATA_LIMIT,
    menu_for,
    plain_text,
    render,
    resolve_callback,
)
from channels.telegram_send import BLOCKED, CHANNEL, TelegramSender, make_bot

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
HELPED_UNSTORED_KEPT = 1000  # update ids remembered (Telegram keeps retrying for ~a day)
MAX_INBOUND = 2000
KNOWN_COMMANDS = ("start", "help", "stop", "delete", "listen", "text")
COMMAND_INTENTS = {
    "start": "/greet",
    "help": "/help_menu",
    "delete": "/delete_my_data",
    "listen": "/read_aloud",
    "text": "/text_only",
}

UNREADABLE_TEXT = (
    "Sorry, I cannot open stickers, photos, voice notes or files. "
    "I can read text messages and button presses, so please type your question."
)
STOPPED_TEXT = "OK. I will not send you any more messages. Send /start if you want to talk again."
FLOOD_TEXT = "You have sent a lot of messages. Please wait a minute, then send your question again."
TRUNCATED_NOTE = (
    "Your message was long, so I only read the first part. "
    "You can send the rest in another message."
)
NO_AUDIO_TEXT = "Sorry, I cannot make the sound right now. The answer is in the message above."
SORRY_TEXT = "Sorry, something went wrong on my side. Please send your message again later."
STALE_BUTTON_TEXT = (
    "Sorry, that button is from an older message. Type what you need, or send /help for topics."
)


@dataclass(frozen=True)
class Inbound:
    """What one update asks of us: the chat, and its text, command or button press."""

    chat_id: int
    text: str = ""
    truncated: bool = False
    command: str | None = None
    callback_id: str | None = None

    @property
    def readable(self) -> bool:
        return bool(self.text)


class ReplyTo(NamedTuple):
    """Where a reply goes: the pseudonym, its chat, and the outbox key if it must wait."""

    sender: str
    chat_id: int | str
    queue_key: str | None = None


def read_update(update: Update) -> Inbound | None:
    """The parts of ``update`` we act on; None for what we ignore (edits, groups, channels)."""
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message else None
        if chat is not None and chat.type != ChatType.PRIVATE:
            return None
        data, _ = clean_input(query.data or "", CALLBACK_DATA_LIMIT)
        return Inbound(chat.id if chat else query.from_user.id, data, callback_id=query.id)
    message = update.message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return None
    text, truncated = clean_input(message.text or message.caption or "", MAX_INBOUND)
    if not text.startswith("/"):
        return Inbound(message.chat_id, text, truncated)
    name = (text[1:].split(maxsplit=1) or [""])[0].split("@")[0].lower()
    if name in KNOWN_COMMANDS:
        return Inbound(message.chat_id, text, truncated, command=name)
    # Anything else typed after a slash is read as words, never as an intent name.
    return Inbound(message.chat_id, text.lstrip("/ "), truncated)


class TurnCollector(CollectingOutputChannel):
    """Collects one turn's messages whole (Rasa's collector splits text at blank lines)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._persist_message(self._message(recipient_id, text=text))


class TelegramOutput(OutputChannel):
    """Sends to a pseudonymous recipient when Rasa starts the turn itself (trigger_intent)."""

    def __init__(self, connector: TelegramInput) -> None:
        self.connector = connector

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        engine = self.connector.engine

        def reachable() -> str | None:
            if contacts.is_opted_out(engine, recipient_id):
                return None
            return contacts.contact_address(engine, recipient_id)

        chat_id = await asyncio.to_thread(reachable)
        if chat_id is None:
            log.info("telegram: nothing sent to %s (no chat, or opted out)", recipient_id)
            return
        await self.connector.send_reply(ReplyTo(recipient_id, chat_id), [message])

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class TelegramInput(InputChannel):
    """Telegram updates in, verified and read; plain text and keyboards out. The rest of a
    message's life is :mod:`channels.pipeline`'s."""

    channel = CHANNEL
    stopped_text: str | None = STOPPED_TEXT
    resumed_text: str | None = None  # /start carries on to the greeting
    help_text = ""  # /help is Rasa's topics menu
    flood_text = FLOOD_TEXT
    apology_text = SORRY_TEXT

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        return cls(load_settings())

    def __init__(self, settings: Settings, speech: SpeechSettings | None = None) -> None:
        self.settings = settings
        self.audio = ReplyAudio(settings, speech)
        self.agent: Any = None  # Rasa's agent, for the read-aloud setting in the tracker
        self.pipeline = Pipeline(
            lambda: self.engine,
            settings.safeguarding_contact,
            recover_after=settings.inbound_recover_after,
            recover_every=settings.inbound_recover_every,
        )
        self._sender: TelegramSender | None = None
        # Updates whose crisis got the emergency reply while the database was down: when
        # Telegram sends one again and it is stored, the reply is not sent twice.
        self._helped_unstored: dict[str, None] = {}
        if not self.configured:
            log.warning(
                "telegram: TELEGRAM_BOT_TOKEN or TELEGRAM_WEBHOOK_SECRET is not set; "
                "the Telegram webhook answers 503 until both are"
            )

    @property
    def configured(self) -> bool:
        return bool(self.settings.telegram_bot_token and self.settings.telegram_webhook_secret)

    @property
    def engine(self) -> Engine:
        return shared_engine(self.settings.database_url)

    @property
    def sender(self) -> TelegramSender:
        if self._sender is None:
            bot = make_bot(self.settings)
            self._sender = TelegramSender(bot, self.engine, self.settings.pseudonym_key)
        return self._sender

    def secret_ok(self, header: str | None) -> bool:
        """Compare the secret header with ``TELEGRAM_WEBHOOK_SECRET`` in constant time."""
        secret = self.settings.telegram_webhook_secret
        return bool(secret and header) and hmac.compare_digest(
            str(header).encode(), secret.encode()
        )

    def get_output_channel(self) -> OutputChannel | None:
        return TelegramOutput(self) if self.configured else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.configured})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        @telegram_webhook.listener("after_server_start")
        async def recover(app: Any, _loop: Any) -> None:
            if self.configured:
                self.agent = getattr(app.ctx, "agent", None)
                self.pipeline.watch(self, on_new_message)

        @telegram_webhook.listener("before_server_stop")
        async def finish(_app: Any, _loop: Any) -> None:
            await self.pipeline.stop()
            if self._sender is not None:
                await self._sender.bot.request.shutdown()
            self.audio.listener.close()

        return telegram_webhook

    async def receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Check, store and acknowledge one update; its answer follows in the background."""
        if not self.configured:
            log.error("telegram: update refused with 503: set TELEGRAM_BOT_TOKEN and the secret")
            return response.json({"ok": False, "error": "Telegram is not configured"}, status=503)
        if not self.secret_ok(request.headers.get(SECRET_HEADER)):
            log.warning("telegram: rejected an update with a missing or wrong secret token")
            return response.json({"ok": False}, status=403)
        self.agent = request.app.ctx.agent
        try:
            update = Update.de_json(request.json, self.sender.bot)
            update_id = str(update.update_id)
        except Exception:
            return response.json({"ok": False, "error": "not a Telegram update"}, status=400)
        try:
            await self.accept(update, on_new_message)
        except Exception:  # Telegram sends the update again later
            log.exception("telegram: could not store update %s; asking for a retry", update_id)
            await self.help_unstored(update)
            return response.json({"ok": False}, status=500)
        return response.json({"ok": True})

    async def help_unstored(self, update: Update) -> None:
        """A crisis that could not be stored gets the emergency reply now, not when a retry
        finds the database back (Telegram retries for hours); that retry will not send it
        again. Anything else waits for the retry, which stores and answers it."""
        update_id = str(update.update_id)
        if update_id in self._helped_unstored:
            return
        try:
            inbound = self.parse(update)
            help_text = await self.pipeline.unstored(inbound) if inbound is not None else None
            if inbound is None or not help_text:
                return
            await self.sender.deliver(inbound.address, help_text)
        except Exception:
            log.exception("telegram: no emergency reply for unstored update %s", update_id)
            return
        self._helped_unstored[update_id] = None
        while len(self._helped_unstored) > HELPED_UNSTORED_KEPT:
            del self._helped_unstored[next(iter(self._helped_unstored))]

    async def accept(
        self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Store the update once and remember its chat, then start answering it."""
        if update.my_chat_member is not None:
            await asyncio.to_thread(self.note_membership, update)
            return
        inbound = self.parse(update)
        if inbound is None:
            return
        job = await self.pipeline.admit(inbound)
        if job is not None:
            if inbound.external_id in self._helped_unstored:
                del self._helped_unstored[inbound.external_id]
                job.emergency_sent = True  # while the database was down (its flag follows)
            self.pipeline.start(self, job, on_new_message)

    def parse(self, update: Update) -> Incoming | None:
        """The pipeline's view of an update, or None for what we ignore."""
        read = read_update(update)
        if read is None:
            return None
        kind = Kind.TEXT
        if read.callback_id:
            kind = Kind.BUTTON
        elif read.command:
            kind = Kind.COMMAND
        elif not read.readable:
            kind = Kind.MEDIA
        return Incoming(
            channel=CHANNEL,
            external_id=str(update.update_id),
            sender=pseudonymise(self.settings.pseudonym_key, CHANNEL, str(read.chat_id)),
            address=str(read.chat_id),
            text=read.text,
            kind=kind,
            truncated=read.truncated,
            command=read.command,
            callback_id=read.callback_id,
        )

    def restore(self, row: contacts.Unanswered) -> Incoming | None:
        """A stored update again, to answer it after a restart (a button press cannot be
        acknowledged any more, so it has no callback id)."""
        if row.address is None:
            return None
        kind = Kind(row.kind) if row.kind in {k.value for k in Kind} else Kind.TEXT
        text = "" if kind is Kind.MEDIA else row.text
        command = None
        if kind is Kind.COMMAND:
            command = (text[1:].split(maxsplit=1) or [""])[0].split("@")[0].lower()
        return Incoming(
            CHANNEL, row.external_id, row.sender, row.address, text, kind, command=command
        )

    def note_membership(self, update: Update) -> None:
        """Someone who blocks the bot is opted out, so nothing more is sent to them."""
        change = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE:
            return
        if change.new_chat_member.status == ChatMemberStatus.BANNED:
            sender = pseudonymise(self.settings.pseudonym_key, CHANNEL, str(change.chat.id))
            contacts.opt_out(self.engine, CHANNEL, sender, BLOCKED)
            log.info("telegram: %s blocked the bot", sender)

    # -- words -----------------------------------------------------------------------------

    def keyword(self, inbound: Incoming) -> Keyword | None:
        if inbound.command == "stop":
            return Keyword.STOP
        return Keyword.START if inbound.command == "start" else None

    def stop_reason(self, inbound: Incoming) -> str:
        return "stop command"

    def resumes(self, inbound: Incoming, keyword: Keyword | None, reason: str) -> bool:
        """/start, or writing at all after unblocking the bot."""
        return keyword is Keyword.START or reason == BLOCKED

    def for_rasa(self, inbound: Incoming, menu: list[dict[str, Any]]) -> str | Fixed:
        """A command's intent, a button's payload, or the words as typed."""
        if inbound.kind is Kind.BUTTON:
            payload = resolve_callback(inbound.text, menu)
            return payload or Fixed(STALE_BUTTON_TEXT, Status.STALE)
        if inbound.kind is Kind.MEDIA or not inbound.text:
            return Fixed(UNREADABLE_TEXT, Status.UNREADABLE)
        return COMMAND_INTENTS.get(inbound.command or "", inbound.text)

    def collector(self) -> CollectingOutputChannel:
        return TurnCollector()

    # -- send ------------------------------------------------------------------------------

    async def begin(self, inbound: Incoming) -> None:
        """Stop a pressed button's spinner at once."""
        if inbound.callback_id:
            await self.sender.answer_button(inbound.callback_id)

    async def deliver(
        self, job: Job, messages: list[Message], turn: bool, part: str = "reply"
    ) -> Status:
        """Send the messages with their keyboards; a turn's reply ends with the note that
        the message was cut, if it was."""
        inbound = job.inbound
        if turn and inbound.truncated:
            messages = [*messages, {"text": TRUNCATED_NOTE}]
        to = ReplyTo(inbound.sender, inbound.address, f"telegram-{part}:{inbound.external_id}")
        return Status(await self.send_reply(to, messages))

    async def after_reply(self, job: Job, messages: list[Message]) -> None:
        """Read the answer aloud too, for someone who asked for that."""
        inbound = job.inbound
        if await self.reads_aloud(inbound.sender):
            to = ReplyTo(inbound.sender, inbound.address)
            await self.send_audio(to, messages, private=inbound.text)

    async def reads_aloud(self, sender: str) -> bool:
        """True when this person asked for answers read aloud (the ``read_aloud`` slot)."""
        if self.agent is None:
            return False
        try:
            tracker = await self.agent.tracker_store.retrieve(sender)
        except Exception:
            log.exception("telegram: could not read the read-aloud setting for %s", sender)
            return False
        return bool(tracker is not None and tracker.get_slot("read_aloud"))

    async def send_audio(self, to: ReplyTo, messages: list[dict[str, Any]], private: str) -> None:
        """Send the turn as a voice message; if no audio can be made, say so in a line."""
        rendered = await self.audio.for_messages(messages, private)
        try:
            if rendered.audio is None:
                log.warning("telegram: no audio for %s: %s", to.sender, "; ".join(rendered.reasons))
                await self.sender.deliver(to.chat_id, NO_AUDIO_TEXT)
            else:
                await self.sender.deliver_audio(to.chat_id, rendered.audio)
        except (TemporaryFailure, PermanentFailure) as exc:
            log.warning("telegram: audio for %s not delivered: %s", to.sender, exc)

    async def send_reply(self, to: ReplyTo, messages: list[dict[str, Any]]) -> str:
        """Send a turn's messages, keyboards and all; store a menu of long button payloads.

        If Telegram stays unreachable, the rest go to the outbox as plain text (each once,
        keyed by ``to.queue_key``). Returns "replied", "queued" or "send_failed".
        """
        menu = menu_for(messages)
        if menu:
            await save_menu(self.engine, to.sender, menu)
        replies = render(messages)
        for index, reply in enumerate(replies):
            try:
                await self.sender.deliver(to.chat_id, *reply)
            except TemporaryFailure as exc:
                if to.queue_key is None:
                    log.warning("telegram: message to %s not delivered: %s", to.sender, exc)
                    return "send_failed"
                for number, later in enumerate(replies[index:], start=index):
                    key = f"{to.queue_key}:{number}"
                    await asyncio.to_thread(
                        enqueue, self.engine, CHANNEL, to.sender, plain_text(later), dedupe_key=key
                    )
                log.warning("telegram: reply to %s queued for later: %s", to.sender, exc)
                return "queued"
            except PermanentFailure as exc:
                log.warning("telegram: reply to %s not delivered: %s", to.sender, exc)
                return "send_failed"
        return "replied"
