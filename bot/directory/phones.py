"""UK phone numbers as directories type them: kept as typed for showing, normalised for dialling.

Accepted: national numbers with any spacing, brackets or dashes (``(01632) 960123``,
``01632-960-123``), international forms (``+44 1632 960123``, ``+44 (0)1632 960123``,
``0044 1632 960123``), an extension (``01632 960123 ext 100``, ``x100``, ``extension 100``),
freephone and non-geographic numbers (``0800 1111``, ``0808 800 5000``, ``0300 123 4567``),
and the short national numbers (``999``, ``112``, ``111``, ``101``, ``105``, ``119``, and the
``116`` helplines such as Samaritans ``116 123``). Numbers outside the UK are refused:
families would pay to call them, and the assistant cannot check them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SHORT_NUMBERS = frozenset({"999", "112", "111", "101", "105", "119"})
_HELPLINE_116 = re.compile(r"^116\d{3}$")
_EXTENSION = re.compile(r"\s*(?:,|;)?\s*(?:ext\.?|extn\.?|extension|x)\s*:?\s*(\d{1,6})\s*$", re.I)
_LABEL = re.compile(r"^\s*(?:tel(?:ephone)?|phone|call|mob(?:ile)?|freephone)\s*[:.]?\s*", re.I)
_SEPARATORS = re.compile(r"[\s\-./()\u2010-\u2015]")
_FICTION_DIAL = re.compile(r"^\+44(?:1632960\d{3}|7700900\d{3})$")
# Real national helplines a sample directory may name: Childline, Samaritans, 999, NHS 111.
NATIONAL_HELPLINES = frozenset({"+448001111", "116123", "116111", "999", "111"})


@dataclass(frozen=True)
class Phone:
    """A phone number: ``display`` as typed (tidied), ``dial`` normalised, and extension."""

    display: str
    dial: str
    extension: str | None = None


class PhoneError(ValueError):
    """A phone number that cannot be read as a UK number; the message says why."""


def tidy(raw: object) -> str:
    """The number as typed, without wrapping quotes and with single spaces."""
    text = str(raw or "").strip().strip("\"'\u201c\u201d").strip()
    return " ".join(text.split())


def parse_phone(raw: object, extension: object = None) -> Phone:
    """Read a UK phone number; raise :class:`PhoneError` with a plain reason if it is not one.

    ``extension`` is a separate extension field (Open Referral's ``phones[].extension``).
    """
    display = tidy(raw)
    if not display:
        raise PhoneError("is empty")
    number = _LABEL.sub("", display)
    ext = None
    found = _EXTENSION.search(number)
    if found:
        ext = found.group(1)
        number = number[: found.start()]
    if extension not in (None, ""):
        ext_text = tidy(extension).removesuffix(".0")
        if not ext_text.isdigit():
            raise PhoneError(f"has an extension '{ext_text}' that is not a number")
        ext = ext or ext_text
    compact = _SEPARATORS.sub("", number)
    compact = compact.replace("+44(0)", "+44").replace("+440", "+44")
    if compact.startswith("0044"):
        compact = "+44" + compact[4:].removeprefix("0")
    if compact.startswith("+"):
        if not compact.startswith("+44"):
            raise PhoneError("is not a UK number")
        national = "0" + compact[3:]
    else:
        national = compact
    if not national.isdigit():
        raise PhoneError("has characters that are not digits")
    dial = _dial(national)
    if ext and ext not in display:
        display = f"{display} ext {ext}"
    return Phone(display=display, dial=dial, extension=ext)


def _dial(national: str) -> str:
    if national in SHORT_NUMBERS or _HELPLINE_116.match(national):
        return national
    if not national.startswith("0") or national.startswith("00"):
        raise PhoneError("is not a UK number (it should start with 0 or +44)")
    digits = len(national)
    if national.startswith(("0800", "0808")) and digits in (8, 10, 11):
        return "+44" + national[1:]  # freephone: Childline is 0800 1111
    if national[1] in "1235789" and digits in (10, 11):
        return "+44" + national[1:]
    raise PhoneError(f"has {digits} digits; UK numbers have 10 or 11")


def is_fiction_or_helpline(phone: Phone) -> bool:
    """True for the ranges Ofcom keeps for drama, or a real national helpline."""
    return bool(_FICTION_DIAL.match(phone.dial)) or phone.dial in NATIONAL_HELPLINES
