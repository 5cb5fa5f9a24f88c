"""The safeguarding categories as data: ``data/safety/categories.yml`` read and compiled.

Each category has its readable patterns, its training examples and look-alikes, and the
help it needs (helpline keys). Patterns are regular expressions on ``bot.text.normalise``d
text; ``<name>`` inside a pattern is a word family from the file's ``words`` section.
The order of the categories is their priority when a message fits more than one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT
from bot.text import normalise

CATEGORIES_FILE = PROJECT_ROOT / "data" / "safety" / "categories.yml"
CATEGORY_KEYS = (
    "physical_abuse",
    "emotional_abuse",
    "sexual_abuse",
    "neglect",
    "sexual_exploitation_grooming",
    "image_abuse",
    "criminal_exploitation",
    "forced_marriage_fgm_honour",
    "domestic_abuse",
    "self_harm",
    "suicidal",
    "overdose_poisoning",
    "medical_emergency",
    "missing_child",
    "staff_harm",
    "radicalisation",
    "bullying_harm",
)
_WORD = re.compile(r"<([a-z_]+)>")


@dataclass(frozen=True)
class Helpline:
    """One line of help: a national number (with the page that publishes it) or a local
    line filled from the directory entry ``local``."""

    key: str
    text: str
    source: str = ""
    local: str = ""


@dataclass(frozen=True)
class Category:
    """A safeguarding category: what it looks like and the help it needs."""

    key: str
    name: str
    opening: str
    help: tuple[str, ...]
    patterns: tuple[str, ...]
    examples: tuple[str, ...]
    lookalikes: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """Every category (in priority order), helpline and compiled pattern."""

    categories: tuple[Category, ...]
    helplines: dict[str, Helpline]
    compiled: dict[str, tuple[re.Pattern[str], ...]]
    # Talking about a harm from a distance (a course, the past, a joke): see the data file.
    distance: re.Pattern[str] | None = None

    # Words that end a chat (thanks, goodbye): see ``closing`` in the data file.
    closing_words: frozenset[str] = frozenset()
    farewells: frozenset[str] = frozenset()

    def distanced(self, text: str) -> bool:
        """Whether ``text`` (as written) has words of distance."""
        return bool(self.distance and self.distance.search(text.lower()))

    def only_closing(self, text: str) -> bool:
        """Whether ``text`` is nothing but a goodbye, with thanks or kind words: "goodbye",
        "thank you for your help, goodbye". Any other word ("goodbye everyone", "this is
        goodbye", "goodbye forever") and it is read as usual."""
        words = normalise(text).split()
        return (
            bool(words)
            and any(w in self.farewells for w in words)
            and all(w in self.closing_words or w in self.farewells for w in words)
        )

    def category(self, key: str) -> Category:
        return next(c for c in self.categories if c.key == key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.categories)


def expand(pattern: str, words: dict[str, str], depth: int = 0) -> str:
    """Replace each ``<name>`` with its word family (families may use families)."""
    if depth > 5:
        raise ValueError(f"word families nest too deeply in {pattern[:60]!r}")

    def word(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in words:
            raise ValueError(f"unknown word family <{name}> in {pattern[:60]!r}")
        return expand(words[name], words, depth + 1)

    return _WORD.sub(word, pattern)


def compile_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    r"""Compile one category's patterns for speed.

    Messages are searched as " " + normalised text, so a leading ``\b`` can become a
    literal space: ``re`` then jumps from word start to word start instead of trying every
    character. Those patterns are joined into one alternation; the rest (``^`` rules) stay
    separate.
    """
    at_word = [p[2:] for p in patterns if p.startswith(r"\b")]
    others = [p for p in patterns if not p.startswith(r"\b")]
    joined = " (?:" + "|".join(f"(?:{p})" for p in at_word) + ")"
    return tuple(re.compile(p) for p in ([joined] if at_word else []) + others)


def _joined(item: Any) -> str:
    """A regular expression written whole, or as a list of parts."""
    if isinstance(item, list):
        return "".join(str(part) for part in item)
    return str(item)


def _pattern_text(item: Any) -> str:
    """A pattern: a regular expression (a string, or a list of parts), or a mapping with
    ``match`` (the rule), ``with`` (one or more contexts that must also be somewhere in the
    message, before or after) and ``unless`` (words that rule the message out)."""
    if not isinstance(item, dict):
        return _joined(item)
    contexts = item.get("with") or []
    contexts = contexts if isinstance(contexts, list) else [contexts]
    ahead = "".join(f"(?=.*(?:{_joined(c)}))" for c in contexts)
    unless = f"(?!.*(?:{_joined(item['unless'])}))" if item.get("unless") else ""
    return f"^{ahead}{unless}.*(?:{_joined(item['match'])})"


def _texts(items: Any) -> tuple[str, ...]:
    return tuple(str(item).strip() for item in items or () if str(item).strip())


def parse_catalogue(data: dict[str, Any], where: str = "categories") -> Catalogue:
    """Build the catalogue from the file's data; raise ValueError naming what is wrong."""
    words = {str(k): str(v) for k, v in (data.get("words") or {}).items()}
    helplines = {
        str(key): Helpline(
            key=str(key),
            text=str(item["text"]),
            source=str(item.get("source") or ""),
            local=str(item.get("local") or ""),
        )
        for key, item in (data.get("helplines") or {}).items()
    }
    problems: list[str] = []
    for line in helplines.values():
        if not line.local and not line.source.startswith("http"):
            problems.append(f"helpline {line.key!r} has no source page")
    categories: list[Category] = []
    compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
    for key, item in (data.get("categories") or {}).items():
        help_keys = tuple(str(h) for h in item.get("help") or ())
        problems += [f"{key}: unknown helpline {h!r}" for h in help_keys if h not in helplines]
        try:
            patterns = tuple(expand(_pattern_text(p), words) for p in item.get("patterns") or ())
            compiled[str(key)] = compile_patterns(patterns)
        except (ValueError, re.error) as error:
            problems.append(f"{key}: {error}")
            continue
        categories.append(
            Category(
                key=str(key),
                name=str(item.get("name") or key),
                opening=str(item.get("opening") or ""),
                help=help_keys,
                patterns=patterns,
                examples=_texts(item.get("examples")),
                lookalikes=_texts(item.get("lookalikes")),
            )
        )
    found = {c.key for c in categories}
    problems += [f"category {k!r} is missing" for k in CATEGORY_KEYS if k not in found]
    problems += [f"category {k!r} is not one of the 17" for k in found - set(CATEGORY_KEYS)]
    distance = None
    if data.get("distance"):
        try:
            distance = re.compile(_joined(data["distance"]))
        except re.error as error:
            problems.append(f"distance: {error}")
    closing = data.get("closing") or {}
    closing_words = frozenset(normalise(str(w)) for w in closing.get("words") or ())
    farewells = frozenset(normalise(str(w)) for w in closing.get("farewells") or ())
    problems += [f"closing: {w!r} is not one word" for w in closing_words | farewells if " " in w]
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
    return Catalogue(tuple(categories), helplines, compiled, distance, closing_words, farewells)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATEGORIES_FILE) -> Catalogue:
    """Read and compile ``data/safety/categories.yml`` (once per process)."""
    with Path(path).open(encoding="utf-8") as handle:
        return parse_catalogue(yaml.safe_load(handle) or {}, str(path))
