"""Speech recognition hints: the words families use for each need, for Twilio's <Gather>."""

from __future__ import annotations

import re
from itertools import zip_longest

from bot.directory.records import Directory

MAX_HINTS = 500  # Twilio's limit: 500 entries of 100 characters at most
MAX_HINT_LENGTH = 100
_NOT_SPOKEN = re.compile(r"[^a-z0-9' ]+")


def _clean(phrase: str) -> str:
    return " ".join(_NOT_SPOKEN.sub(" ", phrase.lower()).split())


def speech_hints(directory: Directory, limit: int = MAX_HINTS) -> str:
    """A comma-separated hints list: every need's label, then its words, a few from each
    need in turn, so every need is represented when the list is cut at ``limit``."""
    columns = [(need.label, *need.synonyms) for need in directory.needs]
    hints: list[str] = []
    seen: set[str] = set()
    for row in zip_longest(*columns):
        for phrase in row:
            hint = _clean(phrase or "")
            if hint and hint not in seen and len(hint) <= MAX_HINT_LENGTH:
                seen.add(hint)
                hints.append(hint)
    return ", ".join(hints[:limit])
