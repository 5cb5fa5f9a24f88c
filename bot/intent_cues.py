"""Narrow intents need a word of their own topic.

Some intents are about one small thing: opening hours, ways in without a phone call, what
changed after feedback, goodbye, no more audio. A family describing their child's needs
uses everyday words the language model has learned for them ("crying every night" looks
like "good night", "he's changed a lot" like "what has changed", "working full time" like
"what time"), and then gets the wrong kind of answer. So the model's choice of one of these
intents stands only when the message has a word of that topic (or, for a goodbye, is
short); otherwise the directory search reads it (``nlu_fallback``), and a message
with no need in it still gets the topic menu. Pure rules on the words; the NLU
component ``components/message_cues.py`` applies them.
"""

from __future__ import annotations

import re

from bot.text import normalise

_DAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekends?|weekdays?"
_HOURS = re.compile(
    r"\b(?:open|opens|opening|close|closes|closed|closing|hours|times|what time|too late"
    r"|too early|when|today|tonight|tomorrow|now|after \d|before \d|bank holidays?"
    r"|christmas|easter|half term|evenings?|mornings?|lunch|" + _DAYS + r")\b"
)
_CONTACT = re.compile(
    r"\b(?:e ?mail|emails|text|texts|texting|txt|sms|message|messages|online|web|website"
    r"|webform|form|write|letter|post|phone|phoning|phones|call|calls|calling|ring|ringing"
    r"|contact|reach|get in touch|deaf|whatsapp)\b"
)
_CHANGED = re.compile(
    r"\bwhat (?:has |have |s |did |got )?(?:you |the council |they )?(?:changed|change|better"
    r"|new|done|do)\b|\bwhats (?:changed|new)\b|\b(?:changed|change) anything\b"
    r"|\b(?:any|show me|tell me) (?:the )?(?:changes|improvements|what changed)\b"
    r"|\byou said\b|\bfeedback\b|\bdifference\b|\bimprovements?\b|\blisten\w*\b"
    r"|\bcomplain\w*\b"
)
_GOODBYE = re.compile(
    r"\b(?:bye|byee*|goodbye|cya|see (?:you|ya|u)|later|laters|ta ?ra|gotta go|got to go"
    r"|have to go|(?:thats|that is) (?:all|it|everything)|im done|leave it there)\b"
)
_TEXT_ONLY = re.compile(
    r"\b(?:text|texts|read|reading|voice|voices|audio|aloud|out loud|talk|talking|speak"
    r"|speaking|notes?|sound|listen\w*)\b"
)
GOODBYE_MAX_WORDS = 4  # "ok that's me", "night night": a short message may end a chat
CUES: dict[str, re.Pattern[str]] = {
    "ask_opening_hours": _HOURS,
    "ask_contact_method": _CONTACT,
    "what_changed": _CHANGED,
    "goodbye": _GOODBYE,
    "text_only": _TEXT_ONLY,
}


def lacks_cue(intent: str, text: str) -> bool:
    """True when ``intent`` is one of the narrow intents and ``text`` has no word of its
    topic (a button's payload, "/...", always keeps its intent)."""
    cue = CUES.get(intent)
    if cue is None or text.startswith("/"):
        return False
    plain = normalise(text)
    if intent == "goodbye" and len(plain.split()) <= GOODBYE_MAX_WORDS:
        return False
    return cue.search(plain) is None
