"""Easy-read one-liners from the long descriptions councils publish.

A family sees one line per service, of at most 15 words. When a source gives a summary,
it is used. Otherwise the description's first sentence is used when it is short enough;
a longer one is cut at a clause (a comma, a dash, or before "which", "and", "for", ...),
so the line still reads as a sentence, and the importer lists it for a person to rewrite.
"""

from __future__ import annotations

import html
import re

MAX_SUMMARY_WORDS = 15
MIN_CLAUSE_WORDS = 4  # a cut that leaves fewer words than this says too little
GOOD_CLAUSE_WORDS = 6  # a clean clause at least this long beats a longer, looser cut
_TAGS = re.compile(r"<[^>]+>")
_BLOCK_TAGS = re.compile(r"</?(?:p|br|li|ul|ol|div|h\d)[^>]*>", re.I)
_MARKDOWN = re.compile(r"(\*\*|__|[*_`#>])|\[([^\]]*)\]\([^)]*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_CLAUSE_PUNCTUATION = frozenset({",", ";", ":", "-", "\u2013", "\u2014", "("})
# Words a clause can start with: the line is cut just before them. A cut before a word
# that starts a whole clause ("because", "which") is better than one before "and" or "for".
CLAUSE_WORDS = frozenset(
    {"but", "so", "which", "who", "whose", "where", "when", "while", "because", "although"}
    | {"including", "includes", "such", "if", "unless", "though", "whether", "providing"}
    | {"offering", "supporting", "helping", "giving", "using", "via"}
)
JOINING_WORDS = frozenset(
    {"and", "or", "as", "that", "for", "to", "with", "within", "in", "on", "at", "by", "from"}
    | {"through", "across"}
)
# Words a line should not end on once cut.
HANGING_WORDS = frozenset(
    {"a", "an", "the", "and", "or", "but", "of", "to", "for", "with", "in", "on", "at", "by"}
    | {"from", "their", "his", "her", "our", "your", "its", "who", "which", "that", "as"}
)


def plain_text(text: str) -> str:
    """``text`` without HTML tags, entities or Markdown marks, on one line."""
    text = _BLOCK_TAGS.sub(". ", text)
    text = html.unescape(_TAGS.sub(" ", text))
    text = _MARKDOWN.sub(lambda m: m.group(2) or "", text)
    text = " ".join(text.split())
    text = re.sub(r"\s*\.(?:\s*\.)+", ".", text)
    return text.lstrip(". ").strip()


def first_sentence(text: str) -> str:
    parts = _SENTENCE_END.split(text.strip(), maxsplit=1)
    return parts[0].strip() if parts else ""


def easy_summary(description: str) -> tuple[str, bool]:
    """A line of at most 15 words from ``description``, and whether it had to be cut
    (then a person should rewrite it). Empty when there is no description."""
    sentence = first_sentence(plain_text(description))
    words = sentence.split()
    if not words:
        return "", False
    if len(words) <= MAX_SUMMARY_WORDS:
        return _finish(sentence), False
    return _finish(" ".join(_cut(words))), True


def _cut(words: list[str]) -> list[str]:
    """The longest start of ``words`` that ends a clause and has at most 15 words: before a
    clause word ("because", "which") when that keeps enough words, else at a punctuation
    mark, else before "and", "for" and the like, else simply the first 15 words."""
    best = {"punctuation": 0, "clause": 0, "joining": 0}
    for count in range(MIN_CLAUSE_WORDS, MAX_SUMMARY_WORDS + 1):
        if words[count - 1][-1] in _CLAUSE_PUNCTUATION:
            best["punctuation"] = count
        if count < len(words):
            after = words[count]
            bare = after.lower().strip("(\"'")
            if after[0] in _CLAUSE_PUNCTUATION:
                best["punctuation"] = count
            elif bare in CLAUSE_WORDS:
                best["clause"] = count
            elif bare in JOINING_WORDS:
                best["joining"] = count
    if best["clause"] >= GOOD_CLAUSE_WORDS:
        keep = best["clause"]
    elif best["punctuation"] >= GOOD_CLAUSE_WORDS:
        keep = best["punctuation"]
    else:
        keep = max(best.values())
    kept = words[: keep or MAX_SUMMARY_WORDS]
    while len(kept) > MIN_CLAUSE_WORDS and kept[-1].lower().strip(",;:") in HANGING_WORDS:
        kept.pop()
    return kept


def _finish(text: str) -> str:
    text = text.rstrip(" ,;:-\u2013\u2014(")
    if text and text[-1] not in ".!?":
        text += "."
    return text[:1].upper() + text[1:]
