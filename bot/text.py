"""Pure text helpers: normalising what people type, light stemming and typo tolerance."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_input(text: str, limit: int) -> tuple[str, bool]:
    """Remove control characters and cut ``text`` to ``limit`` characters.

    Returns the cleaned text and whether it was cut.
    """
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", text or "")).strip()
    if len(cleaned) <= limit:
        return cleaned, False
    cut = cleaned[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip(), True


def normalise(text: str) -> str:
    """Lower-case ``text``, drop apostrophes and turn anything else into single spaces."""
    lowered = text.lower().translate(_APOSTROPHES)
    if not lowered.isascii():  # accents off ("café" -> "cafe"); plain ASCII needs none of it
        lowered = unicodedata.normalize("NFKD", lowered)
        lowered = "".join(c for c in lowered if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", lowered.replace("'", "")).strip()


def stem(token: str) -> str:
    """A light, predictable stem: plural, -ing, -ed and -ly endings, then a final e on
    longer words, so "diagnose", "diagnosed" and "diagnoses" all become "diagnos"."""
    if len(token) > 5 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 6 and token.endswith("ing"):
        token = token[:-3]
    elif len(token) > 5 and token.endswith("ed") and not token.endswith("eed"):
        token = token[:-2]
    elif len(token) > 4 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    elif len(token) > 6 and token.endswith("ly"):
        token = token[:-2]
    if len(token) > 5 and token.endswith("e"):
        token = token[:-1]
    return token


def tokens(text: str) -> list[str]:
    """Stemmed word tokens of ``text``."""
    return [stem(t) for t in normalise(text).split()]


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one insertion, deletion,
    substitution or swap of neighbouring letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if la < lb else (b, a)
    i = j = 0
    skipped = False
    while i < len(short) and j < len(long_):
        if short[i] == long_[j]:
            i += 1
        elif skipped:
            return False
        else:
            skipped = True
        j += 1
    return True


def word_count(sentence: str) -> int:
    return len(sentence.split())


# Control characters a terminal acts on (escape sequences, carriage return, C1 codes) and
# the Unicode marks that reorder text on screen.
_TERMINAL_UNSAFE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: object, keep_newlines: bool = True) -> str:
    """``text`` safe to print on a terminal: control characters shown as ``\\x1b`` etc.
    (newlines kept unless ``keep_newlines`` is False, for one-line listings)."""

    def escape(found: re.Match[str]) -> str:
        char = found.group(0)
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    escaped = _TERMINAL_UNSAFE.sub(escape, str(text))
    return escaped if keep_newlines else escaped.replace("\n", "\\n")


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or
    carriage return) gets a leading apostrophe. Numbers are left alone."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
