"""Tag feedback with themes by a transparent method: a word list per theme.

The lists live in ``data/feedback/themes.yml`` so staff can read and change them. A theme
is tagged when any of its phrases appears in the feedback (stemmed, as the search does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.text import tokens

THEMES_FILE = PROJECT_ROOT / "data" / "feedback" / "themes.yml"


@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    phrases: tuple[tuple[str, ...], ...]


def load_themes(path: Path = THEMES_FILE) -> tuple[Theme, ...]:
    """Read the theme word lists."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        Theme(
            key=key,
            label=str(body["label"]),
            phrases=tuple(tuple(tokens(p)) for p in body["phrases"] if tokens(p)),
        )
        for key, body in data["themes"].items()
    )


def tag_themes(text: str, themes: tuple[Theme, ...]) -> tuple[str, ...]:
    """The keys of every theme whose phrases appear in ``text``, in file order."""
    words = tokens(text)
    found = []
    for theme in themes:
        for phrase in theme.phrases:
            n = len(phrase)
            if any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1)):
                found.append(theme.key)
                break
    return tuple(found)
