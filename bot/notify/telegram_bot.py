"""Telegram through python-telegram-bot's ``Bot`` (``TELEGRAM_API_BASE_URL`` for a fake).

A row's buttons become an inline keyboard. "Bot was blocked by the user", a deactivated
user or "chat not found" opt the person out; a 429 waits as long as Telegram asks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.notify.outbox import (
    MESSAGE,
    Outgoing,
    PermanentFailure,
    RecipientOptedOut,
    TemporaryFailure,
)

# httpx logs each request's URL at INFO, and a Bot API URL holds the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)
CALLBACK_LIMIT = 64  # bytes Telegram allows in a button's callback_data


def keyboard(buttons: Sequence[dict[str, str]]) -> InlineKeyboardMarkup | None:
    """One button per row; None when there are none or one would not fit Telegram."""
    rows = []
    for button in buttons:
        title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
        if not title or not payload or len(payload.encode()) > CALLBACK_LIMIT:
            return None
        rows.append([InlineKeyboardButton(title, callback_data=payload)])
    return InlineKeyboardMarkup(rows) if rows else None


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramBotSender:
    """Sends text (with an inline keyboard when the message has buttons) to a chat."""

    def __init__(self, token: str, base_url: str) -> None:
        request = HTTPXRequest(connection_pool_size=4, connect_timeout=10.0, read_timeout=20.0)
        self.bot = Bot(token, base_url=base_url, request=request)

    async def send_message(self, message: Outgoing) -> str:
        try:
            sent = await self.bot.send_message(
                message.address,
                message.body,
                reply_markup=keyboard(message.buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            raise TemporaryFailure(f"Telegram: {exc.message}", retry_after=wait) from exc
        except Forbidden as exc:  # blocked by the user, or the user is deactivated
            raise RecipientOptedOut(f"Telegram: {exc.message}", "blocked") from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise RecipientOptedOut(f"Telegram: {exc.message}", "chat not found") from exc
            raise PermanentFailure(f"Telegram rejected the message: {exc.message}") from exc
        except NetworkError as exc:  # time-outs, refused connections, 5xx
            raise TemporaryFailure(f"Telegram unreachable: {exc.message}") from exc
        except TelegramError as exc:  # a wrong token
            raise PermanentFailure(f"Telegram: {exc.message}") from exc
        return str(sent.message_id)

    async def send(self, address: str, body: str) -> str:
        return await self.send_message(Outgoing(0, "telegram", MESSAGE, address, body))

    async def close(self) -> None:
        await self.bot.shutdown()
