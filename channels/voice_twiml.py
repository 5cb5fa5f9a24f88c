"""Phone-call rendering, with no I/O: bot messages to spoken pieces, keypad choices and TwiML.

A piece of speech is played from the audio cache when every piece of a message is there
(one voice throughout); otherwise the whole message is read by Twilio's <Say>.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rasa.shared.core.events import BotUttered, Event, UserUttered
from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, Play, Say, VoiceResponse

from bot import sms
from bot.safety import emergency_text

# The line every emergency reply has: used to put that reply first, whatever came before.
EMERGENCY_MARKER = emergency_text(None).splitlines()[1]
TOPIC_PAYLOAD = "/ask_signpost"
# The offer after an answer (actions/common.py OFFER_BUTTONS): on the phone, keys 9/5/7/0.
OFFER_PAYLOADS = frozenset({"/more_options", "/talk_to_someone", "/give_feedback"})
GATHER_DEFAULTS: dict[str, Any] = {
    "input": "speech dtmf",
    "method": "POST",
    "timeout": 6,
    "speech_timeout": "2",
    "num_digits": 1,
    "action_on_empty_result": True,
}


@dataclass(frozen=True)
class Spoken:
    """A message cut into pieces, each with its audio URL when it is cached."""

    pieces: tuple[str, ...]
    urls: tuple[str | None, ...]

    @property
    def complete(self) -> bool:
        return bool(self.pieces) and all(self.urls)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(p for p, url in zip(self.pieces, self.urls, strict=True) if not url)


def add_speech(target: TwiML, spoken: Spoken, voice: str, language: str) -> None:
    """<Play> each cached piece, or one <Say> of the whole message if any piece is missing."""
    if spoken.complete:
        for url in spoken.urls:
            target.append(Play(url))
    elif spoken.pieces:
        target.append(Say(" ".join(spoken.pieces), voice=voice, language=language))


def new_gather(response: VoiceResponse, action: str, hints: str, language: str) -> Gather:
    """A <Gather> for speech or one key, posting to ``action`` even when nothing is heard."""
    return response.gather(action=action, hints=hints or None, language=language, **GATHER_DEFAULTS)


def emergency_first(
    messages: Sequence[dict[str, Any]], crisis: bool, fallback: Callable[[], str]
) -> list[dict[str, Any]]:
    """The turn's messages with the emergency reply first; added when a crisis has none."""
    found = [m for m in messages if EMERGENCY_MARKER in str(m.get("text") or "")]
    rest = [m for m in messages if m not in found]
    if not found and crisis:
        found = [{"text": fallback()}]
    return [*found, *rest]


def offers_topics(messages: Sequence[dict[str, Any]]) -> bool:
    """True when the reply offers the topic menu (buttons that ask for a need)."""
    return any(
        str(b.get("payload") or "").startswith(TOPIC_PAYLOAD)
        for m in messages
        for b in m.get("buttons") or ()
    )


def choices(messages: Sequence[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Keypad choices for a question's buttons: (key, payload, title).

    The offer after an answer and the topic menu are left out: the phone line has its own
    keys for those. When every payload is a digit ("5" for "5 Very good") that digit is
    the key; otherwise the keys are 1, 2, 3 in order.
    """
    last = next((m for m in reversed(messages) if m.get("buttons")), None)
    buttons = [b for b in (last or {}).get("buttons") or () if b.get("payload")]
    buttons = [b for b in buttons if not _navigation(str(b["payload"]))]
    payloads = [str(b["payload"]) for b in buttons]
    if payloads and all(p.isdigit() and len(p) == 1 for p in payloads):
        return [(p, p, _title(b)) for p, b in zip(payloads, buttons, strict=True)]
    return [
        (str(n), p, _title(b))
        for n, (p, b) in enumerate(zip(payloads, buttons, strict=True), start=1)
    ]


def _navigation(payload: str) -> bool:
    return payload in OFFER_PAYLOADS or payload.startswith(TOPIC_PAYLOAD)


def _title(button: dict[str, Any]) -> str:
    """A button's title without a leading copy of its payload ("5 Very good" -> "Very good")."""
    payload, title = str(button["payload"]), str(button.get("title") or button["payload"])
    return title.removeprefix(payload).strip() or title if payload.isdigit() else title


def sms_text(messages: Sequence[dict[str, Any]]) -> str:
    """A turn's text as one plain SMS, without menus (the text conversation is separate)."""
    return sms.render([{"text": m["text"]} for m in messages if m.get("text")]).text


def last_bot_messages(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The bot's messages since the user last spoke, shaped as a collecting channel has them,
    each with what the user said as ``private`` (so it is never kept as audio)."""
    messages: list[dict[str, Any]] = []
    for event in reversed(events):
        if isinstance(event, UserUttered):
            return [{**m, "private": event.text or ""} for m in messages]
        if isinstance(event, BotUttered):
            data = {k: v for k in ("buttons", "custom") if (v := event.data.get(k))}
            messages.insert(0, {"text": event.text, **data})
    return messages
