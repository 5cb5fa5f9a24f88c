"""The glossary: SEND words explained in easy read before anyone is signposted.

Terms live in ``data/glossary.yml``. :func:`asked_term` reads a question that is only
about a word ("what is an EHCP", "whats a senco", "what does PfA mean", "LADO?"); a
question that says more ("what is the waiting list for camhs") is not a glossary question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.text import normalise

GLOSSARY_FILE = Path(__file__).resolve().parents[1] / "data" / "glossary.yml"
_ARTICLE = r"(?:(?:a|an|the|your|this|my|our) )?"
_TAIL = r"(?: (?:please|pls|plz|exactly|actually|then|again|anyway|mate))*"
_QUESTIONS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"^(?:so )?(?:what|wat|wot|whats|wats|what s) (?:is|are|r|s|is an|is a)? ?{_ARTICLE}"
        rf"(?P<t>.+?)(?: then)?{_TAIL}$",
        rf"^(?:what|wat|wot) (?:does|do|dose) {_ARTICLE}(?P<t>.+?) (?:mean|stand for|mean exactly)"
        rf"{_TAIL}$",
        rf"^(?:what is meant by|meaning of|define|explain|can you explain|please explain|"
        rf"tell me what|tell me about) {_ARTICLE}(?P<t>.+?)(?: is| means| mean)?{_TAIL}$",
        rf"^(?:i dont know|dont know|not sure|i dont understand|i m not sure|im not sure) "
        rf"(?:what )?{_ARTICLE}(?P<t>.+?)(?: is| means| mean)?{_TAIL}$",
        rf"^(?:whats|what is|what s) {_ARTICLE}(?P<t>.+?) when its at home$",
    )
)
MAX_SENTENCE_WORDS = 15


@dataclass(frozen=True)
class Term:
    """A word, what it means (two short sentences), and who helps with it."""

    term: str
    aliases: tuple[str, ...]
    meaning: str
    need: str | None
    who: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)


def _key(words: str) -> str:
    plain = normalise(words)
    return plain[:-1] if len(plain) > 3 and plain.endswith("s") else plain


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]

    @property
    def index(self) -> dict[str, Term]:
        return _index(self)

    def find(self, words: str) -> Term | None:
        """The term ``words`` names exactly ("EHC plan", "senco", "sendiass"), if any."""
        return self.index.get(_key(words))


@lru_cache(maxsize=8)
def _index(glossary: Glossary) -> dict[str, Term]:
    index: dict[str, Term] = {}
    for term in glossary.terms:
        for name in term.names:
            index.setdefault(_key(name), term)
    return index


def load_glossary(path: Path = GLOSSARY_FILE) -> Glossary:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    terms = []
    for body in data.get("terms") or []:
        terms.append(
            Term(
                term=str(body["term"]),
                aliases=tuple(str(a) for a in body.get("aliases") or ()),
                meaning=str(body["meaning"]).strip(),
                need=body.get("need"),
                who=tuple(body.get("who") or ()),
            )
        )
    return Glossary(tuple(terms))


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    return load_glossary()


def asked_term(text: str, terms: Glossary | None = None) -> Term | None:
    """The term a question is only about, or None.

    "what is an EHCP", "whats a senco", "what does PfA mean", "explain direct payments",
    and a known term alone with a question mark ("LADO?") all count.
    """
    terms = terms or glossary()
    stripped = text.strip()
    if not stripped or stripped.startswith("/"):
        return None
    plain = normalise(stripped)
    if stripped.endswith("?") and terms.find(plain):
        return terms.find(plain)
    for pattern in _QUESTIONS:
        found = pattern.match(plain)
        if found:
            term = terms.find(found.group("t"))
            if term is not None:
                return term
    return None


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
