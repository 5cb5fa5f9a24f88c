"""Telegram rendering, with no I/O: bot messages to plain text and inline keyboards.

Nothing is sent with a parse mode, so what people type is never read as Markdown or
HTML. A button's payload goes in ``callback_data`` as it is when it fits Telegram's
64 bytes; a longer one becomes ``m:<index>:<check>``, an index into the menu the
connector stores for that chat, with a short hash so a stale button is noticed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

CALLBACK_DATA_LIMIT = 64
MESSAGE_LIMIT = 4096
MENU_PREFIX = "m:"
CHOOSE_TEXT = "Please choose:"

Reply = tuple[str, InlineKeyboardMarkup | None]


def fits_callback_data(payload: str) -> bool:
    """True when ``payload`` can be the ``callback_data`` itself (1-64 bytes of UTF-8)."""
    size = len(payload.encode("utf-8"))
    return 0 < size <= CALLBACK_DATA_LIMIT and not payload.startswith(MENU_PREFIX)


def _check(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:8]


def menu_for(messages: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """The buttons whose payloads are too long for ``callback_data``, in order, once each.

    The connector stores this list (``bot.contacts.save_menu``); ``m:<index>`` points into it.
    """
    menu: list[dict[str, str]] = []
    for message in messages:
        for button in message.get("buttons") or []:
            payload = str(button.get("payload") or "")
            known = any(kept["payload"] == payload for kept in menu)
            if payload and not fits_callback_data(payload) and not known:
                menu.append({"title": str(button.get("title") or ""), "payload": payload})
    return menu


def callback_data(payload: str, menu: Sequence[dict[str, Any]]) -> str:
    """The ``callback_data`` for a button: its payload, or ``m:<index>:<check>`` into ``menu``."""
    if fits_callback_data(payload):
        return payload
    index = next(i for i, button in enumerate(menu) if button.get("payload") == payload)
    return f"{MENU_PREFIX}{index}:{_check(payload)}"


def resolve_callback(data: str, menu: Sequence[dict[str, Any]]) -> str | None:
    """The payload a pressed button stands for; None when it points at a menu no longer kept."""
    if not data.startswith(MENU_PREFIX):
        return data
    index, _, check = data.removeprefix(MENU_PREFIX).partition(":")
    if not index.isdigit() or int(index) >= len(menu):
        return None
    payload = str(menu[int(index)].get("payload") or "")
    return payload if payload and _check(payload) == check else None


def keyboard(
    buttons: Sequence[dict[str, Any]], menu: Sequence[dict[str, Any]]
) -> InlineKeyboardMarkup | None:
    """One button a row (easy to tap on a phone); None when there are no buttons."""
    rows = [
        [
            InlineKeyboardButton(
                str(b.get("title") or payload), callback_data=callback_data(payload, menu)
            )
        ]
        for b in buttons
        if (payload := str(b.get("payload") or ""))
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters, at line ends where possible."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    if rest:
        parts.append(rest)
    return parts


def render(messages: Iterable[dict[str, Any]]) -> list[Reply]:
    """Turn Rasa's bot messages into Telegram messages: plain text, and a keyboard if any.

    Custom JSON (``{"signpost": [...]}``), images and attachments are for other channels
    and are left out. A long text is split; its keyboard goes with the last part.
    """
    messages = list(messages)
    menu = menu_for(messages)
    replies: list[Reply] = []
    for message in messages:
        buttons = message.get("buttons") or []
        text = str(message.get("text") or "").strip() or (CHOOSE_TEXT if buttons else "")
        if not text:
            continue
        parts = split_text(text)
        replies.extend((part, None) for part in parts[:-1])
        replies.append((parts[-1], keyboard(buttons, menu)))
    return replies


def plain_text(reply: Reply) -> str:
    """A reply as text alone, its buttons listed as words to type (for the outbox)."""
    text, markup = reply
    if markup is None:
        return text
    titles = [button.text for row in markup.inline_keyboard for button in row]
    return "\n".join([text, "You can reply:", *(f"- {title}" for title in titles)])
