"""An entry's own words for the search: its name, keywords, taxonomy terms and description.

Worked out once, when an entry is imported, and stored with it (``entries.search_terms``),
so a server builds its inverted index from stored words instead of reading every
description again. Each word (stemmed as the search reads messages, ``bot.text.tokens``)
keeps the weight of the most telling field it is in: the name says most, the description
least.
"""

from __future__ import annotations

from bot.directory.records import Entry
from bot.text import tokens

FIELD_WEIGHTS = (
    ("name", 1.0),
    ("keywords", 0.9),
    ("taxonomy", 0.8),
    ("summary", 0.6),
    ("organisation", 0.4),
    ("description", 0.4),
)
# Words that say nothing about what a service does: function words and what every
# service says about itself ("we offer support to families").
STOP_WORDS = frozenset(
    "a about above after again all also am an and any are as at be been before being below "
    "between both but by can could did do does doing down during each few for from further "
    "had has have having he her here hers him his how i if in into is it its itself just me "
    "more most my no nor not now of off on once only or other our ours out over own same she "
    "should so some such than that the their them then there these they this those through "
    "to too under until up very was we were what when where which while who whom why will "
    "with would you your yours us get got one two".split()
) | frozenset(
    tokens(
        "service services support supports supporting help helps helping provide provides "
        "providing offer offers offering available local people person child children young "
        "families family parent parents carer carers run runs based area session sessions"
    )
)
MIN_WORD_LENGTH = 3


def index_words(text: str) -> list[str]:
    """The words of ``text`` the index keeps: stemmed, without stop words or numbers."""
    return [
        word
        for word in tokens(text)
        if len(word) >= MIN_WORD_LENGTH and word not in STOP_WORDS and not word.isdigit()
    ]


def entry_terms(entry: Entry) -> dict[str, float]:
    """Each word of ``entry`` with the weight of the most telling field it is in."""
    terms: dict[str, float] = {}
    for field, weight in FIELD_WEIGHTS:
        value = getattr(entry, field)
        texts = value if isinstance(value, tuple) else (value or "",)
        for text in texts:
            for word in index_words(text):
                if terms.get(word, 0.0) < weight:
                    terms[word] = weight
    return terms
