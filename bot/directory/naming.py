"""Which directory entries a message names: "PODS", "the IASS", "Shining Stars", "the OT".

Names, the words in brackets after a name ("Strengthening Families (Early Help)"), and an
entry's own keywords count; single everyday words ("feedback", "equipment") and words two
entries share do not. Pure: give it the directory.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.directory.records import Directory, Entry
from bot.text import normalise

# Single keywords that are everyday words, not a way of naming a service.
GENERIC = frozenset(
    "feedback complaint complaints compliment sensory equipment play website directory "
    "diagnosis autism adhd transition childcare clubs escort walking wheelchair splints "
    "dressing handwriting toddler paediatrician consultation literacy numeracy adopted "
    "kinship continence respite workshops impartial confidential safeguarding transport "
    "travel school your child children service team the and of for".split()
)
_BRACKETS = re.compile(r"\(([^)]*)\)")


def _phrases(entry: Entry) -> list[str]:
    name = entry.name.replace("&", "and")
    phrases = [normalise(name), normalise(_BRACKETS.sub(" ", name))]
    phrases += [normalise(inner) for inner in _BRACKETS.findall(name)]
    phrases += [normalise(k) for k in entry.keywords]
    words = normalise(_BRACKETS.sub(" ", name)).split()
    phrases += [w for w in words if w.isalpha() and len(w) >= 3 and w not in GENERIC and w.upper()
                in entry.name]  # fmt: skip
    return [p for p in dict.fromkeys(phrases) if p and p not in GENERIC]


@lru_cache(maxsize=8)
def _index(directory: Directory) -> tuple[tuple[str, str], ...]:
    """(phrase, entry key), longest phrases first; a phrase two entries share is left out."""
    owners: dict[str, set[str]] = {}
    for entry in directory.entries:
        for phrase in _phrases(entry):
            owners.setdefault(phrase, set()).add(entry.key)
    pairs = [(p, next(iter(keys))) for p, keys in owners.items() if len(keys) == 1]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def named_entries(directory: Directory, text: str) -> list[Entry]:
    """Entries the message names, in the order it names them."""
    padded = f" {normalise(text)} "
    found: dict[str, int] = {}
    taken: list[tuple[int, int]] = []
    for phrase, key in _index(directory):
        at = padded.find(f" {phrase} ")
        if at < 0 or key in found:
            continue
        span = (at, at + len(phrase) + 1)
        if any(a <= span[0] < b or a < span[1] <= b for a, b in taken):
            continue
        found[key] = at
        taken.append(span)
    entries = [directory.entry(key) for key in sorted(found, key=found.__getitem__)]
    return [e for e in entries if e is not None]
