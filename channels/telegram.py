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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
from bot.db import session_scope, shared_engine
from bot.notify.outbox import PermanentFailure, TemporaryFailure, deliver_due, enqueue
from bot.privacy import pseudonymise
from bot.safeguard import crisis_fallback
from bot.safety import check_message, is_emergency_reply
from bot.speech.config import SpeechSettings
from bot.text import clean_input
from channels.audio import ReplyAudio
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
MAX_INBOUND = 2000
OUTBOX_POLL_SECONDS = 2.0
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
CRISIS_TURN_WITHIN = 8.0  # seconds a crisis message waits for Rasa before the channel answers
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
        chat_id = contacts.contact_address(engine, recipient_id)
        if chat_id is None or contacts.is_opted_out(engine, recipient_id):
            log.info("telegram: nothing sent to %s (no chat, or opted out)", recipient_id)
            return
        await self.connector.send_reply(ReplyTo(recipient_id, chat_id), [message])

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


def opt_out_reason(engine: Engine, sender: str) -> str | None:
    """Why ``sender`` opted out ("stop command", "blocked"), or None if they have not."""
    with session_scope(engine) as session:
        row = session.get(contacts.OptOutRow, sender)
        return str(row.reason) if row else None


class TelegramInput(InputChannel):
    """Telegram updates in, verified and de-duplicated; plain text and keyboards out."""

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
        self.tasks: set[asyncio.Task[None]] = set()
        self.worker: asyncio.Task[None] | None = None
        self._sender: TelegramSender | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}
        self._warned_at: dict[str, float] = {}
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
        async def start_outbox(_app: Any, _loop: Any) -> None:
            if self.configured:
                self.worker = asyncio.create_task(self.deliver_forever())

        @telegram_webhook.listener("before_server_stop")
        async def finish(_app: Any, _loop: Any) -> None:
            if self.worker is not None:
                self.worker.cancel()
            if self.tasks:
                await asyncio.wait(self.tasks, timeout=5)
            if self._sender is not None:
                await self._sender.bot.request.shutdown()
            self.audio.listener.close()

        return telegram_webhook

    async def deliver_forever(self) -> None:
        """Send queued Telegram messages (case updates, delayed replies) every few seconds."""
        while True:
            try:
                await deliver_due(self.engine, {CHANNEL: self.sender})
            except Exception:
                log.exception("telegram outbox: delivery round failed; will try again")
            await asyncio.sleep(OUTBOX_POLL_SECONDS)

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
            self.accept(update, on_new_message)
        except Exception:  # Telegram sends the update again later
            log.exception("telegram: could not store update %s; asking for a retry", update_id)
            return response.json({"ok": False}, status=500)
        return response.json({"ok": True})

    def accept(
        self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Store the update once and remember its chat, then start answering it."""
        if update.my_chat_member is not None:
            self.note_membership(update)
            return
        inbound = read_update(update)
        if inbound is None:
            return
        update_id = str(update.update_id)
        sender = pseudonymise(self.settings.pseudonym_key, CHANNEL, str(inbound.chat_id))
        contacts.remember_contact(self.engine, CHANNEL, sender, str(inbound.chat_id))
        stored = inbound.text or "(not text)"
        if not contacts.record_inbound(self.engine, CHANNEL, update_id, sender, stored):
            log.info("telegram: update %s for %s came again; not answered twice", update_id, sender)
            return
        # Counted on arrival, so a burst is judged by when it came, not when it is answered.
        flooding = contacts.recent_count(self.engine, sender) > contacts.FLOOD_LIMIT_PER_MINUTE
        turn = self.handle(inbound, sender, update_id, flooding, on_new_message)
        task = asyncio.create_task(turn)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def note_membership(self, update: Update) -> None:
        """Someone who blocks the bot is opted out, so nothing more is sent to them."""
        change = update.my_chat_member
        if change is None or change.chat.type != ChatType.PRIVATE:
            return
        if change.new_chat_member.status == ChatMemberStatus.BANNED:
            sender = pseudonymise(self.settings.pseudonym_key, CHANNEL, str(change.chat.id))
            contacts.opt_out(self.engine, CHANNEL, sender, BLOCKED)
            log.info("telegram: %s blocked the bot", sender)

    async def handle(
        self,
        inbound: Inbound,
        sender: str,
        update_id: str,
        flooding: bool,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        """Answer one stored update, after earlier ones from the same chat; store the outcome."""
        if inbound.callback_id:
            await self.sender.answer_button(inbound.callback_id)
        async with self._one_turn_at_a_time(sender):
            try:
                status = await self.respond(inbound, sender, update_id, flooding, on_new_message)
            except Exception:
                log.exception("telegram: update %s for %s failed", update_id, sender)
                status = "failed"
        try:
            contacts.set_inbound_status(self.engine, CHANNEL, update_id, status)
        except Exception:
            log.exception("telegram: could not store the outcome of update %s", update_id)

    async def respond(
        self,
        inbound: Inbound,
        sender: str,
        update_id: str,
        flooding: bool,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> str:
        """Send nothing, a fixed answer, or Rasa's reply; return the status to store."""
        engine, turn = self.engine, ReplyTo(sender, inbound.chat_id, f"telegram-reply:{update_id}")
        crisis = not inbound.callback_id and check_message(inbound.text).crisis
        reason = opt_out_reason(engine, sender)
        if inbound.command == "stop":
            if reason is not None:
                return "opted_out"
            contacts.opt_out(engine, CHANNEL, sender, "stop command")
            log.info("telegram: %s opted out", sender)
            return await self.send_texts(turn, [STOPPED_TEXT], "stopped")
        if reason is not None and (inbound.command == "start" or reason == BLOCKED):
            contacts.opt_in(engine, sender)  # /start, or writing again after unblocking
            log.info("telegram: %s opted back in", sender)
        elif reason is not None:
            # Safety first: someone at risk gets the emergency numbers even after /stop.
            help_text = self.fallback(sender, inbound.text) if crisis else None
            if help_text:
                return await self.send_texts(turn, [help_text], "crisis")
            return "opted_out"
        if flooding and not crisis:
            if self.warn_once_a_minute(sender):
                return await self.send_texts(turn, [FLOOD_TEXT], "flood")
            return "flood"
        text = COMMAND_INTENTS.get(inbound.command or "", inbound.text)
        if inbound.callback_id:
            payload = resolve_callback(inbound.text, contacts.last_menu(engine, sender))
            if not payload:
                return await self.send_texts(turn, [STALE_BUTTON_TEXT], "stale")
            text = payload
        elif not inbound.readable:
            return await self.send_texts(turn, [UNREADABLE_TEXT], "unreadable")
        collector = TurnCollector()
        message = UserMessage(text, collector, sender, input_channel=CHANNEL, message_id=update_id)
        try:
            await asyncio.wait_for(on_new_message(message), CRISIS_TURN_WITHIN if crisis else None)
        except Exception as error:  # Rasa failed or is slow: a crisis still gets its help
            if not crisis:
                raise
            log.error("telegram: the turn for update %s failed: %r", update_id, error)
        messages = collector.messages
        if crisis and not is_emergency_reply([str(m.get("text") or "") for m in messages]):
            help_text = self.fallback(sender, inbound.text)
            messages = [*([{"text": help_text}] if help_text else []), *messages]
        if inbound.truncated:
            messages.append({"text": TRUNCATED_NOTE})
        status = await self.send_reply(turn, messages)
        if status == "replied" and await self.reads_aloud(sender):
            await self.send_audio(turn, messages, private=inbound.text)
        return status

    def fallback(self, sender: str, text: str) -> str | None:
        """The emergency reply from the channel itself (and a flag), if ``text`` is a crisis."""
        contact = self.settings.safeguarding_contact
        return crisis_fallback(self.engine, sender, CHANNEL, text, safeguarding_contact=contact)

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

    def warn_once_a_minute(self, sender: str) -> bool:
        """True if ``sender`` has not been asked to slow down in the last minute (and notes it)."""
        now = asyncio.get_running_loop().time()
        self._warned_at = {s: t for s, t in self._warned_at.items() if now - t < 60}
        if sender in self._warned_at:
            return False
        self._warned_at[sender] = now
        return True

    async def send_texts(self, to: ReplyTo, texts: list[str], status: str) -> str:
        """Send fixed answers; return ``status`` once they went."""
        delivered = await self.send_reply(to, [{"text": t} for t in texts])
        return status if delivered == "replied" else delivered

    async def send_reply(self, to: ReplyTo, messages: list[dict[str, Any]]) -> str:
        """Send a turn's messages, keyboards and all; store a menu of long button payloads.

        If Telegram stays unreachable, the rest go to the outbox as plain text (each once,
        keyed by ``to.queue_key``). Returns "replied", "queued" or "send_failed".
        """
        menu = menu_for(messages)
        if menu:
            contacts.save_menu(self.engine, to.sender, menu)
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
                    enqueue(self.engine, CHANNEL, to.sender, plain_text(later), dedupe_key=key)
                log.warning("telegram: reply to %s queued for later: %s", to.sender, exc)
                return "queued"
            except PermanentFailure as exc:
                log.warning("telegram: reply to %s not delivered: %s", to.sender, exc)
                return "send_failed"
        return "replied"

    @asynccontextmanager
    async def _one_turn_at_a_time(self, sender: str) -> AsyncIterator[None]:
        """Hold the chat's lock, so its messages are answered in the order they came."""
        lock = self._locks.setdefault(sender, asyncio.Lock())
        self._waiting[sender] = self._waiting.get(sender, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[sender] -= 1
            if not self._waiting[sender]:
                del self._waiting[sender], self._locks[sender]
