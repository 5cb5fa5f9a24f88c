"""The audio guide on the phone line: "press 8 for the Who's Who", one topic at a time.

Pure call logic, so the channel stays thin: which part to play for a key, what to say
after it, and the mode (``guide-3``) that travels in the signed ``action`` URL of the next
<Gather>. In the guide: 1 plays the next topic, 2 the one before, 9 this one again,
0 leaves it. Pressing 1 after the last topic leaves it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.directory.records import Directory
from bot.publish.audio import GuidePart, guide_parts
from bot.publish.content import build_guide

GUIDE_KEY = "8"
GUIDE_PREFIX = "guide-"
STARTS_FROM = ("ask", "answered")  # the phone line's modes in which 8 opens the guide
OFFER = "Press 8 to hear the whole Who's Who."
NEXT = "Press 1 for the next topic."
BACK = "Press 2 for the one before."
AGAIN = "Press 9 to hear this again."
STOP = "Press 0 to stop, or ask me something."
LAST = "That was the last topic."
PROMPTS = (OFFER, NEXT, BACK, AGAIN, STOP, LAST)


@dataclass(frozen=True)
class GuideTurn:
    """What to play now, what to say after it, and the mode for the next key."""

    part: GuidePart
    keys: str
    mode: str


def handles(mode: str, key: str) -> bool:
    """True when ``key`` pressed in ``mode`` belongs to the guide."""
    return mode.startswith(GUIDE_PREFIX) or (key == GUIDE_KEY and mode in STARTS_FROM)


def current(mode: str) -> int | None:
    """The part a caller is on, from a mode like ``guide-3``."""
    number = mode.removeprefix(GUIDE_PREFIX)
    return int(number) if mode.startswith(GUIDE_PREFIX) and number.isdigit() else None


def step(mode: str, key: str, count: int) -> int | None:
    """The part to play for ``key`` (None: leave the guide)."""
    now = current(mode)
    if now is None:
        return 0 if key == GUIDE_KEY else None
    now = min(now, count - 1)
    if key == "0" or (key == "1" and now + 1 >= count):
        return None
    if key == "1":
        return now + 1
    if key == "2":
        return max(now - 1, 0)
    return now  # 9, or a key with no meaning here: this part again


def keys_after(number: int, count: int) -> str:
    """What the caller can press after part ``number``."""
    lines = [NEXT] if number + 1 < count else [LAST]
    if number > 0:
        lines.append(BACK)
    return "\n".join([*lines, AGAIN, STOP])


def guide_turn(directory: Directory, mode: str, key: str, today: date) -> GuideTurn | None:
    """The next turn of the guide for a key, or None when the caller leaves it."""
    parts = guide_parts(build_guide(directory, made=today))
    number = step(mode, key, len(parts))
    if number is None:
        return None
    return GuideTurn(parts[number], keys_after(number, len(parts)), f"{GUIDE_PREFIX}{number}")
