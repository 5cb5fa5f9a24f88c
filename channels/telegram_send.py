"""Sending to Telegram with python-telegram-bot: spaced out per chat and overall, waiting out
429 "retry after", and recording an opt-out when the person has blocked the bot.

``TelegramSender`` is also the outbox's ``Sender`` for Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Engine
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot import contacts
from bot.config import Settings
from bot.notify.outbox import PermanentFailure, TemporaryFailure
from bot.privacy import pseudonymise
from bot.speech.cache import Audio

log = logging.getLogger(__name__)
# httpx logs each request's URL at INFO, and a Bot API URL holds the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)
CHANNEL = "telegram"
BLOCKED = "blocked"


def make_bot(settings: Settings) -> Bot:
    """A Bot API client for ``settings`` (``TELEGRAM_API_BASE_URL`` can point at a fake)."""
    return Bot(
        settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        request=HTTPXRequest(connection_pool_size=16, pool_timeout=5.0),
        get_updates_request=HTTPXRequest(read_timeout=40.0),
    )


class TelegramSender:
    """Sends through the Bot API: spaced out, waiting out 429s, an opt-out when blocked.

    It is also the outbox's ``Sender`` for Telegram: ``send(chat_id, text)`` returns the
    message id, or raises ``TemporaryFailure`` / ``PermanentFailure``.
    """

    per_chat_seconds = 0.3  # Telegram asks for about one message a second in a chat
    overall_seconds = 1 / 30  # and at most 30 a second in all
    max_wait_seconds = 60.0
    attempts = 4

    def __init__(self, bot: Bot, engine: Engine, pseudonym_key: str) -> None:
        self.bot = bot
        self.engine = engine
        self.pseudonym_key = pseudonym_key
        self._paused_until = 0.0
        self._next_any = 0.0
        self._next_in_chat: dict[str, float] = {}

    async def send(self, address: str, body: str) -> str:
        """The outbox's way in: ``body`` as plain text to chat ``address``."""
        return await self.deliver(address, body)

    async def deliver(
        self, chat_id: int | str, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> str:
        """Send one plain-text message (no Markdown or HTML); return Telegram's message id."""
        return await self._send(
            chat_id,
            lambda: self.bot.send_message(
                chat_id,
                text,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            ),
        )

    async def deliver_audio(self, chat_id: int | str, audio: Audio) -> str:
        """Send a reply's audio: MP3 as a voice message, other audio (WAV) as a file."""
        data, name = audio.path.read_bytes(), f"answer{audio.path.suffix}"
        if audio.content_type == "audio/mpeg":
            return await self._send(
                chat_id, lambda: self.bot.send_voice(chat_id, data, filename=name)
            )
        return await self._send(
            chat_id, lambda: self.bot.send_document(chat_id, data, filename=name)
        )

    async def _send(self, chat_id: int | str, call: Callable[[], Awaitable[Message]]) -> str:
        """Make one Bot API call in turn, with retries; return the sent message's id."""
        for attempt in range(1, self.attempts + 1):
            await self._take_turn(str(chat_id))
            try:
                sent = await call()
                return str(sent.message_id)
            except RetryAfter as exc:
                wait = float(exc.retry_after)
                self._pause(wait)  # Telegram's flood control: nothing goes out until then
                if wait > self.max_wait_seconds or attempt == self.attempts:
                    raise TemporaryFailure(f"Telegram: {exc.message}", retry_after=wait) from exc
                log.warning("telegram: too many requests; waiting %.0f s to send again", wait)
            except Forbidden as exc:
                sender = pseudonymise(self.pseudonym_key, CHANNEL, str(chat_id))
                await asyncio.to_thread(contacts.opt_out, self.engine, CHANNEL, sender, BLOCKED)
                log.info("telegram: %s has blocked the bot; no more messages go to them", sender)
                raise PermanentFailure(f"Telegram: {exc.message}") from exc
            except BadRequest as exc:
                raise PermanentFailure(f"Telegram rejected the message: {exc.message}") from exc
            except NetworkError as exc:  # timeouts, refused connections, 5xx
                if attempt == self.attempts:
                    raise TemporaryFailure(f"Telegram unreachable: {exc.message}") from exc
                await asyncio.sleep(2 ** (attempt - 1))
            except TelegramError as exc:  # a wrong token, a migrated chat
                raise PermanentFailure(f"Telegram: {exc.message}") from exc
        raise AssertionError("unreachable")

    async def answer_button(self, callback_id: str) -> None:
        """Stop the button's spinner (answerCallbackQuery); a late answer is only logged."""
        try:
            await self.bot.answer_callback_query(callback_id)
        except TelegramError as exc:
            log.info("telegram: could not answer a button press: %s", exc.message)

    def _pause(self, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)

    async def _take_turn(self, chat_id: str) -> None:
        """Wait for this message's slot: first its own chat's spacing, then (only once it
        is ready to go) the overall spacing, so a chat waiting between its own messages
        never holds up another chat's first reply; a 429 pause holds up everything."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        in_chat = max(now, self._paused_until, self._next_in_chat.get(chat_id, 0))
        self._next_in_chat[chat_id] = in_chat + self.per_chat_seconds
        if len(self._next_in_chat) > 1000:
            self._next_in_chat = {k: t for k, t in self._next_in_chat.items() if t > now}
        if in_chat > now:
            await asyncio.sleep(in_chat - now)
        now = loop.time()
        start = max(now, self._paused_until, self._next_any)
        self._next_any = start + self.overall_seconds
        if start > now:
            self._next_in_chat[chat_id] = max(
                self._next_in_chat.get(chat_id, 0), start + self.per_chat_seconds
            )
            await asyncio.sleep(start - now)
