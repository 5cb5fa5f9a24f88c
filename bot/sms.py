"""SMS text, in one pure module: GSM-7 only, numbered menus, and segment counts.

One character outside GSM-7 (a curly quote, an emoji) turns a 160-character SMS into a
70-character one and doubles the council's bill, so every reply is made plain first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
SINGLE_SEGMENT, MULTI_SEGMENT = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67

REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u2022": "-", "\u00b7": "-", "\u00a0": " ", "\u2009": " ", "\u200b": "",
    "\t": " ", "\u00a9": "(c)", "\u2122": "TM", "\u00bd": "1/2", "\u00bc": "1/4",
    "\u2192": "->", "\u2713": "OK", "\u2714": "OK",
}  # fmt: skip


def to_gsm7(text: str) -> str:
    """Return ``text`` using only GSM-7 characters: look-alikes swapped, accents dropped
    where GSM-7 has no accented letter, anything else (emoji) removed."""
    out = []
    for char in text:
        char = REPLACEMENTS.get(char, char)
        if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in char):
            out.append(char)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if plain and all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in plain):
            out.append(plain)
    cleaned = "".join(out)
    while "  " in cleaned:
        cleaned = cleaned.replace("  ", " ")
    return "\n".join(line.strip() for line in cleaned.splitlines()).strip()


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def segments(text: str) -> int:
    """How many SMS segments ``text`` costs (extension characters count twice)."""
    if not text:
        return 0
    if is_gsm7(text):
        length = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        return 1 if length <= SINGLE_SEGMENT else -(-length // MULTI_SEGMENT)
    length = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return 1 if length <= UCS2_SINGLE else -(-length // UCS2_MULTI)


def own_numbers(buttons: Sequence[Mapping[str, Any]]) -> bool:
    """True when each button's payload is its own one-digit number ("5" for "5 Very good"):
    a rating scale, whose numbers must never be renumbered."""
    payloads = [str(b.get("payload") or "") for b in buttons]
    return bool(payloads) and all(p.isdigit() and len(p) == 1 for p in payloads)


def numbered_menu(buttons: Sequence[Mapping[str, Any]]) -> str:
    """Buttons as a menu a basic phone can answer: 'Reply 1 More options, 2 Talk ...'.
    A rating scale keeps its own numbers: 'Reply 5 for Very good, ... 1 for Very bad.'"""
    if own_numbers(buttons):
        options = [
            f"{b['payload']} for {str(b['title']).removeprefix(str(b['payload'])).strip()}"
            for b in buttons
        ]
        return "Reply " + ", ".join(options) + "."
    options = [f"{n} {b['title']}" for n, b in enumerate(buttons, start=1)]
    return "Reply " + ", ".join(options) + "."


def pick_option(text: str, buttons: Sequence[Mapping[str, Any]]) -> str | None:
    """The payload chosen by a reply of "1", "2", ... to the last menu, if any (on a rating
    scale, the number typed is the rating itself)."""
    choice = text.strip().rstrip(".")
    if own_numbers(buttons):
        return choice if any(str(b["payload"]) == choice for b in buttons) else None
    if choice.isdigit() and 1 <= int(choice) <= len(buttons):
        return str(buttons[int(choice) - 1]["payload"])
    return None


@dataclass(frozen=True)
class SmsReply:
    """What a family receives by text, and the menu it ends with."""

    text: str
    buttons: tuple[Mapping[str, Any], ...]

    @property
    def segments(self) -> int:
        return segments(self.text)


def render(messages: Iterable[Mapping[str, Any]], plain: bool = True) -> SmsReply:
    """Join a turn's bot messages into one plain GSM-7 SMS ending with a numbered menu.

    Custom payloads are not for SMS, except a shorter wording of the message just before
    (``{"sms": "..."}``), which replaces it: each character costs the council money; and
    ``{"unicode": true}`` on a message in another language, which keeps its script.
    ``plain=False`` (WhatsApp) keeps every message's own wording and characters.
    """
    texts: list[list[Any]] = []  # [text, keep its own script]
    buttons: list[Mapping[str, Any]] = []
    for message in messages:
        custom = message.get("custom") or {}
        # Rasa sends a message's custom payload just after its text, as a message of its own.
        if plain and custom.get("sms") and texts:
            texts[-1] = [str(custom["sms"]), False]
        if custom.get("unicode") and texts and not message.get("text"):
            texts[-1][1] = True  # a reply in another language keeps its script
        if message.get("text"):
            texts.append([str(message["text"]), bool(custom.get("unicode"))])
        if message.get("buttons"):
            buttons = list(message["buttons"])  # only the last menu can be answered
    if buttons:
        texts.append([numbered_menu(buttons), False])
    lines = [text.strip() if keep or not plain else to_gsm7(text) for text, keep in texts]
    return SmsReply("\n".join(t for t in lines if t), tuple(buttons))
