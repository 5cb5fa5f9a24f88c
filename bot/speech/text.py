"""Speech-friendly text, in one pure module: what a reply should sound like when read aloud.

Web addresses become "the website", phone numbers are read in digit groups
("0 1 6 3 2, 9 6 0, 1 2 2"), case references are spelled ("T W, 7 K 3, Q X Z"), "SENCo"
and "EHCP" are explained the first time, "&" is "and", and "Reply 1 ..." menus (which
only make sense in a text) are dropped.
"""

from __future__ import annotations

import re
import unicodedata

from bot.routing.references import REFERENCE_RE
from bot.text import normalise

_URL = re.compile(r"(?:https?://|www\.)\S*[^\s.,;:!?)]", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# A UK number: 0 or +44, then 7 to 10 more digits with single spaces or dashes between.
_UK_PHONE = re.compile(r"(?<![\w+])(?:\+44[ -]?(?:\(0\)[ -]?)?|0)\d(?:[ -]?\d){6,9}(?![\w])")
# Short numbers people must hear digit by digit: 999, 111, 112 and the 116 helplines.
_SHORT_PHONE = re.compile(r"(?<![\w+])(?:999|111|112|116[ -]?\d{3})(?![\w])")
_RANGE = re.compile(r"\b(\d+) ?[-\u2013] ?(\d+)\b")
_MENU_LINE = re.compile(r"^\s*Reply \d+\b.*$", re.MULTILINE)
_LIST_MARK = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s+", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LABEL = re.compile(r"^([^.!?:]{1,120}): (.+)$")
_SPACES = re.compile(r"[ \t]+")

# Acronyms explained the first time they are heard (not when already in brackets).
_EXPLAIN = (
    (
        re.compile(r"\bSEND?Cos?\b|\bSENCOs?\b"),
        "special educational needs coordinator{s} ({word})",
    ),
    (re.compile(r"\bEHCPs?\b"), "education, health and care plan{s}"),
)


def _digits_spoken(groups: list[str]) -> str:
    """'01632', '960122' -> '0 1 6 3 2, 9 6 0, 1 2 2' (long groups split in two)."""
    spoken: list[str] = []
    for group in groups:
        if len(group) >= 6:
            half = 4 if len(group) == 8 else 3
            spoken += [group[:half], group[half:]]
        elif group:
            spoken.append(group)
    return ", ".join(" ".join(g) for g in spoken)


def _uk_groups(digits: str) -> list[str]:
    """Standard groups for a UK number written without spaces."""
    if digits.startswith("02"):
        return [digits[:3], digits[3:7], digits[7:]]
    if digits.startswith(("011", "03", "08", "09")) or digits[3:4] == "1":
        return [digits[:4], digits[4:7], digits[7:]]
    return [digits[:5], digits[5:]]


def speak_phone(number: str) -> str:
    """A phone number as digit groups a listener can write down."""
    prefix = ""
    if number.startswith("+"):
        prefix, number = "plus 4 4, ", re.sub(r"^\+44[ -]?(?:\(0\)[ -]?)?", "", number)
    groups = [g for g in re.split(r"[ -]", number) if g]
    if len(groups) == 1 and number.startswith("0"):
        groups = _uk_groups(groups[0])
    elif len(groups) == 1 and len(groups[0]) == 6:  # 116123
        groups = [groups[0][:3], groups[0][3:]]
    return prefix + _digits_spoken(groups)


def speak_reference(match: re.Match[str]) -> str:
    """'TW-7K3QXZ' -> 'T W, 7 K 3, Q X Z': a case reference spelled out to write down.
    Only speech spells it; text chats show it as it is written."""
    code = match.group(1).upper()
    return f"T W, {' '.join(code[:3])}, {' '.join(code[3:])}"


def _speak_email(match: re.Match[str]) -> str:
    address = match.group(0)
    for symbol, word in (("@", " at "), (".", " dot "), ("_", " underscore "), ("-", " dash ")):
        address = address.replace(symbol, word)
    return address


def _explain_first(text: str) -> str:
    """Expand each known acronym once: the first time it is not already in brackets."""
    for pattern, long_form in _EXPLAIN:
        match = pattern.search(text)
        if match is None:
            continue
        before, after = text[match.start() - 1 : match.start()], text[match.end() :][:1]
        if (before, after) == ("(", ")"):  # explained already: "a plan (EHCP)"
            continue
        word = match.group(0)
        expanded = long_form.format(s="s" if word.endswith("s") else "", word=word)
        text = text[: match.start()] + expanded + text[match.end() :]
    return text


def _drop_symbols(text: str) -> str:
    """Remove emoji and other pictures, which text-to-speech reads out by name."""
    return "".join(c for c in text if unicodedata.category(c) not in ("So", "Sk", "Cs"))


def speech_text(text: str, drop_menus: bool = True) -> str:
    """Return ``text`` rewritten to be read aloud; lines are kept."""
    if drop_menus:
        text = _MENU_LINE.sub("", text)
    text = _LIST_MARK.sub("", _drop_symbols(text))
    text = _URL.sub("the website", text)
    text = _EMAIL.sub(_speak_email, text)
    text = REFERENCE_RE.sub(speak_reference, text)
    text = _UK_PHONE.sub(lambda m: speak_phone(m.group(0)), text)
    text = _SHORT_PHONE.sub(lambda m: speak_phone(m.group(0)), text)
    text = _RANGE.sub(r"\1 to \2", text)
    text = text.replace("&", " and ").replace("*", "").replace("_", " ")
    text = _explain_first(text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _sentence(text: str) -> str:
    text = text.strip().rstrip(":;,").rstrip()
    text = text[:1].upper() + text[1:]
    ended = text.rstrip("\"'\u201d\u2019)").endswith((".", "!", "?"))
    return text if ended else text + "."


def segments(text: str) -> list[str]:
    """Split speech text into short pieces, each cached and played on its own.

    A line is cut into sentences, and a short label before a colon ("Housing
    Adaptations: Money and help ...") becomes its own piece, so a directory entry's
    summary sounds, and is cached, the same wherever it appears.
    """
    pieces: list[str] = []
    for line in text.splitlines():
        for sentence in _SENTENCE_END.split(line.strip()):
            if not sentence:
                continue
            label = _LABEL.match(sentence)
            if label and len(label.group(1).split()) <= 12:
                pieces += [_sentence(label.group(1)), _sentence(label.group(2))]
            else:
                pieces.append(_sentence(sentence))
    return [p for p in pieces if p.strip(".!? ")]


def speech_segments(text: str) -> list[str]:
    """``text`` made speech-friendly and cut into the pieces that are cached."""
    return segments(speech_text(text))


def quotes(piece: str, private: str) -> bool:
    """True when ``piece`` repeats what the person said (``private``), in any case or spacing."""
    said = normalise(private)
    return bool(said) and f" {said} " in f" {normalise(piece)} "
