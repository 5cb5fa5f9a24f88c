"""Rank Who's Who entries for a need described in a family's own words.

Transparent by design, keyword first:

* The message and every phrase are read the same way: lower case, light stemming
  (``bot.text.stem``), small filler words ("the", "my", "his") dropped, and one typo
  allowed in longer words ("sensery" -> "sensory", "self harmin" -> "self harming").
* The phrases are the need taxonomy's synonyms (``needs.yml``) and each entry's own
  keywords. A phrase may have one extra word inside it ("sent him home" for "sent home"),
  which then counts for less. Phrases of several telling words weigh more; words used by
  many needs ("school", "support") tell less, and a phrase shared by several needs says
  less. A phrase inside a longer matched phrase does not count on its own ("complain about
  the hospital" is not also a council "complain"), everyday phrases such as "talk to" or
  "who do i tell" never count as a need, and words that name a condition rather than a
  need ("autistic", "adhd") count for less, so "my autistic son needs a taxi" is about
  transport.
* An entry scores for each matched need, most for the need it lists first, for its own
  keywords, and for words of the message in its own name, taxonomy terms, summary or
  description (an inverted index, so "counselling" finds "Community Counselling"; a word
  many entries share tells less). A message with no match, or only a weak one, gets no
  entries.
* Optionally, a small learned classifier (``bot.directory.classifier``), trained on
  labelled messages in families' words, is blended in: it predicts which needs a message
  is about (a few dozen classes, whatever the directory's size), and each entry gets the
  probability of the needs it lists. Pass ``examples=load_examples(default_examples_path())``.
* Only candidates are scored: the entries listing a matched or likely need, and those
  whose own words match. So a search costs about the same with 30 or 10,000 entries, and
  what is read from a message (phrases, classifier, index hits) is kept for the last few
  messages, as the age question ranks the same message for several ages.
* In a message of several parts (split at sentence marks and commas), the parts that ask
  ("... who can help with his sleep?") say what is wanted and the rest is background:
  their phrases weigh more, and the classifier reads them on their own as well.
* An age in the message ("my 3 year old", "ds 15", "year 11") filters out services for
  other ages, gives early-years help a nudge for under-fives and adulthood help from 16,
  and favours services made for a narrower age band. Without an age, words such as
  "nursery" or "teacher" give a rough one that only favours, never filters. Area filters
  too.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy import sparse

from bot.directory.classifier import Example, trained_classifier
from bot.directory.classifier import load_examples as load_examples  # re-exported
from bot.directory.index import entry_terms, index_words
from bot.directory.records import Directory, Entry
from bot.text import normalise, stem, tokens, within_one_edit

MAX_RESULTS = 3
MIN_SCORE = 0.5
RELATIVE_CUTOFF = 0.4
FUZZY_MIN_LENGTH = 6
RANK_WEIGHTS = (1.0, 0.8, 0.7, 0.6)
KEYWORD_WEIGHT = 1.2
MAX_GAP = 1  # extra words allowed inside a phrase, which then counts for less
GAP_PENALTY = 0.8
SHARED_WORD_NEEDS = 3  # a word used by more needs than this is less telling
EXTRA_HIT_WEIGHT = 0.3
NATIONAL = "national"

# With a learned classifier (``Catalog(directory, examples=...)``) an entry's score is
#   BLEND_KEYWORD * keyword score / max(best keyword score, KEYWORD_SCALE)
#   + (1 - BLEND_KEYWORD) * the classifier's probability for the entry,
# so a weak keyword match counts for less than a clear one. A message still needs a
# keyword match of MIN_SCORE, or else a classifier at least CLASSIFIER_ALONE_MIN sure of
# one entry and knowing CLASSIFIER_ALONE_EVIDENCE of its words, to get any entries; so
# "what's the weather" still gets none. Entries under BLENDED_RELATIVE_CUTOFF of the best
# are left out. Tuned by 5-fold cross-validation on data/directory/examples.yml.
# CLASSIFIER_ALONE_MIN was then lowered from 0.25 on the development sets in tests/data/:
# a situation told in words no synonym list has gets the classifier's best entries
# rather than the topic menu; cross-validation did not move.
# A lower BLENDED_RELATIVE_CUTOFF shows more third entries but hides the age question
# (bot/directory/age_question.py) where the age changes who helps, so it stays at 0.2.
BLEND_KEYWORD = 0.5
KEYWORD_SCALE = 2.0
CLASSIFIER_ALONE_MIN = 0.15
CLASSIFIER_ALONE_EVIDENCE = 3  # content words the classifier knows, needed without a keyword
BLENDED_RELATIVE_CUTOFF = 0.2
# The classifier predicts needs. An entry's share of it is the probability of the need it
# lists first, and less of the others it lists (CLASSIFIER_RANK_WEIGHTS by rank, and
# CLASSIFIER_EXTRA_NEEDS of all but the best).
CLASSIFIER_RANK_WEIGHTS = (1.0, 0.8, 0.7, 0.6)
CLASSIFIER_EXTRA_NEEDS = 0.3  # the entry's other needs, after its best one
# An entry's own words (bot/directory/index.py) that are in the message add
# TEXT_WEIGHT * (field weight * how rare the word is), best word first, the others less
# (EXTRA_HIT_WEIGHT). 0.3 to 0.6 gave the same top-1 on the development sets and in
# cross-validation (1.0 was worse); 0.6 lets one word of a service's name find it
# ("counselling" finds "Community Counselling" when its taxonomy maps to no need). A word
# in more than COMMON_WORD_SHARE of the entries (and more than COMMON_WORD_MIN) tells
# nothing and is not looked up.
TEXT_WEIGHT = 0.6
COMMON_WORD_SHARE = 0.2
COMMON_WORD_MIN = 50
ANALYSIS_CACHE_SIZE = 256
SHORTLIST = 64  # entries put in exact rank order per search (the best by score)
NAME_AS_PHRASE = True  # an entry's name (two words or more) counts as one of its keywords

# Dropped from messages and phrases alike, so "complain about the hospital" matches
# "complain about hospital" and "his plan" matches "her plan".
FILLER_WORDS = frozenset(
    {"a", "an", "the", "my", "our", "his", "her", "their", "your", "this", "that", "some"}
)
# Everyday ways of asking that are never a need in themselves: "talk to" is not speech
# therapy. A need phrase wholly inside one of these does not count.
GENERIC_PHRASES = (
    "talk to",
    "talk with",
    "talk about",
    "speak to",
    "speak with",
    "who do i tell",
    "who can i tell",
    "who should i tell",
    "who to tell",
    "tell me",
    "waiting list",  # every service has one: "speech therapy waiting list" is speech
)
# Everyday words that join a phrase but do not make it more specific: "where to start"
# or "help in class" are no more telling than "hearing aids".
JOINING_WORDS = frozenset(
    {"to", "in", "on", "of", "for", "at", "with", "and", "or", "is", "are", "be", "i", "im"}
    | {"it", "up", "out", "as", "about", "from", "by", "he", "she", "we", "they", "me", "him"}
    | {"what", "where", "when", "how", "who", "which", "there", "any", "all", "do", "can"}
    | {"get", "got", "have", "has", "need", "want", "just", "really", "very", "so", "help"}
    | {"its", "like", "thing", "not", "but"}
)

# Words that name a condition rather than what the family needs. They still count, at a
# lower weight, so a message that only says "autism assessment?" is still understood.
CONDITION_WORDS = frozenset(
    {
        "autism",
        "autistic",
        "asd",
        "asc",
        "adhd",
        "aspergers",
        "asperger",
        "neurodivergent",
        "neurodiverse",
        "pda",
        "down",
        "syndrome",
        "cerebral",
        "palsy",
    }
)
CONDITION_STEMS = frozenset(stem(word) for word in CONDITION_WORDS)  # as phrases are read
CONDITION_WEIGHT = 0.5
# An age alone is weak evidence for a need: a small nudge that breaks ties between
# equally good matches but never makes a result on its own.
AGE_HINTS = ((0, 4, "early_years_learning"), (16, 25, "adulthood"))
AGE_HINT_WEIGHT = 0.3
AGE_FIT_BONUS = 0.1
MAX_CHILD_AGE = 25
# In a message of several parts, the parts that ask ("who can help with his sleep?") say
# what the family wants; the rest is background. Phrases in an asking part weigh
# ASK_WEIGHT times more; when the classifier knows ASK_EVIDENCE words of the asking part,
# its probabilities for that part make up ASK_SHARE of the classifier's view. Chosen on
# tests/data/signpost_dev.yml and 5-fold cross-validation on examples.yml, modestly:
# a general question ("what can school do") after a specific story is common too.
ASK_WEIGHT = 1.3
ASK_EVIDENCE = 2
ASK_SHARE = 0.33
ASK_OPENINGS = frozenset(
    {"who", "what", "whats", "how", "where", "which", "can", "could", "is", "are", "any"}
    | {"do", "does", "should", "will", "would", "please", "pls", "plz"}
)
_PARTS = re.compile(r"([,.!?;:\n]+)")
# With no age given, a word about nursery or school still says roughly how old the child
# is. Such a guess only favours services for that age; it never filters others out.
STAGE_WORDS = (
    (2, frozenset({"toddler", "baby", "nursery", "preschool", "playgroup"})),
    (8, frozenset({"school", "teacher", "class", "lesson", "primary", "secondary", "gcse"})),
)

_NOT_AN_AGE_AFTER = (
    r"(?!\s*(?:\d|years? ago|yrs? ago|weeks?|months?|days?|times?|hours?|hrs?|mins?|minutes?"
    r"|miles?|am|pm|kids|children|boys|girls|of|x|percent|pounds?|quid)\b)"
)
# Ordered from most to least certain that the number is the child's age.
_AGE_PATTERNS: tuple[tuple[re.Pattern[str], int, int], ...] = (
    # (pattern, months per unit: 1 for months, 12 for years, 0 for a school year)
    (re.compile(r"\b(\d{1,2}) ?(?:months?|mths?|mnths?) old\b"), 1, 0),
    (re.compile(r"\b(\d{1,2})(?: and a half| and half)? ?(?:yo|y o|yrs? old|years? old)\b"), 12, 0),
    (re.compile(r"\bmy (\d{1,2}) ?(?:yr|yrs|year|years)\b"), 12, 0),
    (
        re.compile(
            r"\b(?:ds|dd|dgs|dgd|son|daughter|grandson|granddaughter|grandaughter|lad|boy"
            r"|girl|he is|she is|hes|shes|they are|theyre|aged|age|turns|turned|turning"
            r"|turn|hits|reaches)(?: is| was| just| now)? (\d{1,2})\b" + _NOT_AN_AGE_AFTER
        ),
        12,
        0,
    ),
    (
        re.compile(r"\b(?:im|i am|iam|i m)(?: only| just| now)? (\d{1,2})\b" + _NOT_AN_AGE_AFTER),
        12,
        0,
    ),
    # A school year: year 1 is age 5 to 6, year 11 is age 15 to 16.
    (re.compile(r"\byear (\d{1,2})\b(?! old)"), 0, 5),
)


def default_examples_path() -> Path:
    """The labelled messages the directory ranker learns from (``data/directory/examples.yml``)."""
    return Path(__file__).resolve().parents[2] / "data" / "directory" / "examples.yml"


class NeedScorer(Protocol):
    """Anything that gives each need key a probability for a message."""

    def scores(self, text: str) -> dict[str, float]: ...

    def evidence(self, text: str) -> int: ...


@dataclass(frozen=True)
class Match:
    """An entry that can help, with its score and the needs that matched."""

    entry: Entry
    score: float
    needs: tuple[str, ...]


@dataclass(frozen=True)
class _Phrase:
    owner: str  # a need key, "entry:<key>" for an entry's own keyword, or "" if generic
    words: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class _Found:
    phrase: _Phrase
    start: int
    end: int

    def inside(self, other: _Found) -> bool:
        """True when this match lies within ``other``, which is longer and has no extra word
        inside it: in "how long is [physio] wait", "physio" still counts."""
        return (
            other.start <= self.start
            and self.end <= other.end
            and other.end - other.start > self.end - self.start
            and other.end - other.start == len(other.phrase.words)
        )


def extract_age(text: str) -> int | None:
    """Return a child's age mentioned in ``text`` ("my 7 year old", "ds 15", "im 17")."""
    plain = normalise(text)
    for pattern, months_per_unit, school_year_offset in _AGE_PATTERNS:
        for found in pattern.finditer(plain):
            number = int(found.group(1))
            if school_year_offset:
                age = number + school_year_offset if 1 <= number <= 13 else None
            else:
                age = number * months_per_unit // 12
            if age is not None and age <= MAX_CHILD_AGE:
                return age
    return None


def _match_end(words: list[str], start: int, phrase: tuple[str, ...]) -> int | None:
    """Where ``phrase`` ends if it is found at ``start``, allowing ``MAX_GAP`` extra words
    in between ("sent him home" for "sent home"); None if it is not there."""
    at, gaps = start + 1, 0
    for wanted in phrase[1:]:
        while at < len(words) and words[at] != wanted and gaps < MAX_GAP:
            at, gaps = at + 1, gaps + 1
        if at >= len(words) or words[at] != wanted:
            return None
        at += 1
    return at


def _age_span(entry: Entry) -> int:
    return max(0, entry.age_max - entry.age_min)


def _likely_age(words: list[str]) -> int | None:
    """A rough age from words about nursery or school, when no age is given."""
    for age, stage_words in STAGE_WORDS:
        if stage_words.intersection(words):
            return age
    return None


def stage_age(text: str) -> int | None:
    """A rough age from words about nursery or school in ``text``, None without any."""
    return _likely_age(_words(text))


def _parts(text: str) -> list[tuple[str, bool]]:
    """``text`` split at sentence marks and commas, each part with whether it asks: it
    ends with "?" or opens with a question word ("who can help with his sleep")."""
    pieces = _PARTS.split(text)
    return [
        (part, "?" in mark or bool(ASK_OPENINGS.intersection(normalise(part).split()[:1])))
        for part, mark in zip(pieces[::2], [*pieces[1::2], ""], strict=True)
        if _words(part)
    ]


def asks(text: str) -> bool:
    """True when some part of ``text`` asks (a question mark, or a question word first):
    "who do i tell", "how do i get him referred?"."""
    return any(asking for _, asking in _parts(text))


def _asking(text: str) -> tuple[str, frozenset[int]]:
    """The parts of ``text`` that ask, and the positions of their words in ``_words(text)``.

    Empty when no part asks or every part does: then no part stands out.
    """
    parts = _parts(text)
    if all(asks for _, asks in parts) or not any(asks for _, asks in parts):
        return "", frozenset()
    positions: set[int] = set()
    at = 0
    for part, asks in parts:
        count = len(_words(part))
        if asks:
            positions.update(range(at, at + count))
        at += count
    return " ".join(part for part, asks in parts if asks), frozenset(positions)


def _words(text: str) -> list[str]:
    """Stemmed tokens of ``text`` without filler words."""
    return [t for t in tokens(text) if t not in FILLER_WORDS]


@dataclass(frozen=True)
class _Analysis:
    """What a message says, read once and kept for the next few searches of it."""

    likely_age: int | None
    need_hits: Mapping[str, tuple[float, ...]]  # need key or "entry:<key>" -> weights
    term_positions: np.ndarray  # entries whose own words are in the message
    term_scores: np.ndarray  # ... and the score of those words
    probabilities: Mapping[str, float]  # need -> classifier probability (empty without)
    evidence: int


class Catalog:
    """A directory indexed for search. Build once, search many times, from any thread."""

    def __init__(
        self,
        directory: Directory,
        examples: Iterable[Example] | None = None,
        classifier: NeedScorer | None = None,
        terms: Mapping[str, Mapping[str, float]] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        """Index ``directory``. With labelled ``examples`` (see ``load_examples``), also get
        the need classifier for them (from the disk cache, or trained once) and blend its
        probabilities with the keyword scores; or pass a ``classifier``. Without either,
        search is keyword only. ``terms`` are the entries' stored search words (see
        ``bot.directory.store.load_indexed``); without them they are worked out here."""
        self.directory = directory
        if classifier is None and examples is not None:
            classifier = trained_classifier(tuple(examples), directory.needs, cache_dir)
        self.classifier = classifier
        self._entries = directory.entries
        self._need_keys = {need.key for need in directory.needs}
        self._position = {entry.key: position for position, entry in enumerate(self._entries)}
        self._index_needs()
        self._index_phrases(directory)
        self._index_words(terms)
        self._analyses: OrderedDict[str, _Analysis] = OrderedDict()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """The index only (for bot.directory.catalog's cache): never the classifier, which
        has its own cache, nor the messages read lately."""
        state = dict(self.__dict__)
        for name in ("classifier", "_analyses", "_lock"):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.classifier = None
        self._analyses = OrderedDict()
        self._lock = threading.Lock()

    def _index_needs(self) -> None:
        """Entries by need, as sparse matrices (entries x needs) of each need's weight for
        the entry (by its rank there), and the entries' ages as arrays: a search scores
        every entry at once, so it costs about the same for 30 entries or 10,000."""
        needs = sorted({n for e in self._entries for n in e.needs} | self._need_keys)
        self._need_column = {need: column for column, need in enumerate(needs)}
        rows, columns, keyword, learned = [], [], [], []
        for position, entry in enumerate(self._entries):
            for rank, need in enumerate(entry.needs):
                rows.append(position)
                columns.append(self._need_column[need])
                keyword.append(RANK_WEIGHTS[min(rank, len(RANK_WEIGHTS) - 1)])
                learned.append(CLASSIFIER_RANK_WEIGHTS[min(rank, len(CLASSIFIER_RANK_WEIGHTS) - 1)])
        shape = (len(self._entries), len(needs))
        self._keyword_weights = sparse.csr_matrix((keyword, (rows, columns)), shape=shape)
        self._learned_weights = sparse.csr_matrix((learned, (rows, columns)), shape=shape)
        self._age_min = np.array([e.age_min for e in self._entries], dtype=np.int64)
        self._age_max = np.array([e.age_max for e in self._entries], dtype=np.int64)
        self._age_fit = 1 + AGE_FIT_BONUS * (
            1 - np.maximum(0, self._age_max - self._age_min) / (MAX_CHILD_AGE + 1)
        )

    def _index_phrases(self, directory: Directory) -> None:
        """The taxonomy's synonyms and the entries' keywords, by their first word."""
        self._by_first: dict[str, list[_Phrase]] = defaultdict(list)
        self._vocabulary: set[str] = set()
        owners_per_phrase: dict[tuple[str, ...], set[str]] = defaultdict(set)
        raw: list[tuple[str, tuple[str, ...]]] = []
        for need in directory.needs:
            for synonym in need.synonyms:
                raw.append((need.key, tuple(_words(synonym))))
        for entry in directory.entries:
            for keyword in entry.keywords:
                raw.append((f"entry:{entry.key}", tuple(_words(keyword))))
            if NAME_AS_PHRASE:
                name = tuple(w for w in _words(entry.name) if w not in JOINING_WORDS)
                if len(name) >= 2:  # a family naming the service wants that service
                    raw.append((f"entry:{entry.key}", name))
        generic = {tuple(_words(phrase)) for phrase in GENERIC_PHRASES}
        # A generic phrase never counts as a need, even where a list names it.
        raw = [(owner, words) for owner, words in raw if words not in generic]
        raw.extend(("", words) for words in generic)
        raw = list(dict.fromkeys((owner, words) for owner, words in raw if words))
        needs_per_word: dict[str, set[str]] = defaultdict(set)
        for owner, words in raw:
            owners_per_phrase[words].add(owner)
            if owner in self._need_keys:
                for word in words:
                    needs_per_word[word].add(owner)

        def telling(word: str) -> float:
            """How much a word says about the need: "deaf" a lot, "school" little."""
            if word in JOINING_WORDS:
                return 0.0
            return min(1.0, SHARED_WORD_NEEDS / max(1, len(needs_per_word[word])))

        for owner, words in raw:
            # Longer phrases of telling words are more specific; a phrase shared by many
            # owners says less.
            weight = 0.5 + 0.5 * sum(telling(word) for word in words)
            weight /= len(owners_per_phrase[words])
            if all(word in CONDITION_STEMS for word in words):
                weight *= CONDITION_WEIGHT
            self._by_first[words[0]].append(_Phrase(owner, words, weight))
            self._vocabulary.update(words)
        # Typo candidates by first letter and length, so a lookup stays quick however many
        # keywords the entries bring.
        self._long_words: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted(self._vocabulary):  # sorted: the same typo reading in every process
            if len(word) >= FUZZY_MIN_LENGTH:
                self._long_words[word[0], len(word)].append(word)

    def _index_words(self, terms: Mapping[str, Mapping[str, float]] | None) -> None:
        """The inverted index of the entries' own words, and how rare each word is."""
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for position, entry in enumerate(self._entries):
            words = terms.get(entry.key) if terms is not None else None
            for word, weight in (words if words is not None else entry_terms(entry)).items():
                found = postings.get(word)
                if found is None:
                    postings[word] = ([position], [weight])
                else:
                    found[0].append(position)
                    found[1].append(weight)
        self._postings = {
            word: (np.array(positions, dtype=np.int64), np.array(weights, dtype=np.float64))
            for word, (positions, weights) in postings.items()
        }
        total = len(self._entries)
        self._common = max(COMMON_WORD_MIN, int(total * COMMON_WORD_SHARE))
        self._log_total = math.log(total + 1.5)

    def _rarity(self, word: str) -> float:
        """0 for a word every entry has, 1 for one no other entry has."""
        found = self._postings.get(word)
        count = 0 if found is None else len(found[0])
        return max(0.0, math.log((len(self._entries) + 1) / (count + 0.5)) / self._log_total)

    def _canonical(self, token: str) -> str:
        """Map a typo onto a known word ("sensery" -> "sensory") when it is one edit away."""
        if token in self._vocabulary or token.isdigit():
            return token
        if token.endswith("in") and stem(token + "g") in self._vocabulary:
            return stem(token + "g")  # dropped g: "talkin", "harmin"
        if len(token) < FUZZY_MIN_LENGTH:
            return token
        for length in (len(token), len(token) - 1, len(token) + 1):
            for word in self._long_words.get((token[0], length), ()):
                if within_one_edit(token, word):
                    return word
        return token

    def _found(self, text: str) -> list[_Found]:
        """Every phrase found in ``text`` that is not inside a longer one."""
        words = [self._canonical(t) for t in _words(text)]
        found = []
        for i, word in enumerate(words):
            for phrase in self._by_first.get(word, ()):
                end = _match_end(words, i, phrase.words)
                if end is not None:
                    if end - i > len(phrase.words):
                        phrase = replace(phrase, weight=phrase.weight * GAP_PENALTY)
                    found.append(_Found(phrase, i, end))
        return [f for f in found if not any(f.inside(other) for other in found)]

    def matched_phrases(self, text: str) -> list[_Phrase]:
        """Every taxonomy or keyword phrase in ``text`` that counts towards a need, those
        in a part that asks weighing ``ASK_WEIGHT`` times more."""
        _, asking = _asking(text)
        return [
            replace(f.phrase, weight=f.phrase.weight * ASK_WEIGHT)
            if f.start in asking
            else f.phrase
            for f in self._found(text)
            if f.phrase.owner
        ]

    def _analyse(self, text: str) -> _Analysis:
        """Phrases, own-word hits and the classifier's view of ``text``, kept for the next
        few searches of the same text (the age question ranks it for several ages)."""
        with self._lock:
            cached = self._analyses.get(text)
            if cached is not None:
                self._analyses.move_to_end(text)
                return cached
        hits: dict[str, list[float]] = defaultdict(list)
        for phrase in self.matched_phrases(text):
            hits[phrase.owner].append(phrase.weight)
        probabilities: dict[str, float] = {}
        evidence = 0
        if self.classifier is not None and normalise(text):
            probabilities = self._probabilities(self.classifier, text)
            evidence = self.classifier.evidence(text)
        term_positions, term_scores = self._term_scores(text)
        analysis = _Analysis(
            likely_age=_likely_age(_words(text)),
            need_hits={owner: tuple(weights) for owner, weights in hits.items()},
            term_positions=term_positions,
            term_scores=term_scores,
            probabilities=probabilities,
            evidence=evidence,
        )
        with self._lock:
            self._analyses[text] = analysis
            if len(self._analyses) > ANALYSIS_CACHE_SIZE:
                self._analyses.popitem(last=False)
        return analysis

    @staticmethod
    def _probabilities(classifier: NeedScorer, text: str) -> dict[str, float]:
        probabilities = classifier.scores(text)
        asked, _ = _asking(text)
        if asked and classifier.evidence(asked) >= ASK_EVIDENCE:
            # The classifier reads the whole story; the part that asks says what is wanted.
            from_ask = classifier.scores(asked)
            probabilities = {
                key: (1 - ASK_SHARE) * p + ASK_SHARE * from_ask.get(key, 0.0)
                for key, p in probabilities.items()
            }
        return probabilities

    def _term_scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The entries whose own words are in ``text``, and for each the best word's weight
        times its rarity plus EXTRA_HIT_WEIGHT of the others'."""
        best = np.zeros(len(self._entries))
        total = np.zeros(len(self._entries))
        for word in dict.fromkeys(index_words(text)):
            found = self._postings.get(word)
            if found is None or len(found[0]) > self._common:
                continue
            positions, weights = found
            scores = weights * self._rarity(word)
            np.maximum.at(best, positions, scores)
            np.add.at(total, positions, scores)
        hit = np.flatnonzero(best)
        return hit, best[hit] + EXTRA_HIT_WEIGHT * (total[hit] - best[hit])

    def search(
        self,
        text: str,
        age: int | None = None,
        area: str | None = None,
        limit: int = MAX_RESULTS,
        exclude: tuple[str, ...] = (),
    ) -> list[Match]:
        """Return at most ``limit`` entries for the need in ``text``, best first."""
        if age is None:
            age = extract_age(text)
        analysis = self._analyse(text)
        if not self._entries:
            return []
        need_scores = {
            owner: max(w) + EXTRA_HIT_WEIGHT * (sum(w) - max(w))
            for owner, w in analysis.need_hits.items()
        }
        if age is not None:
            for low, high, need in AGE_HINTS:
                if low <= age <= high and need in self._need_keys:
                    need_scores[need] = need_scores.get(need, 0.0) + AGE_HINT_WEIGHT
        eligible = self._eligible(age, area, exclude)
        likely_age = analysis.likely_age if age is None else age
        keyword = self._keyword_scores(analysis, need_scores, likely_age)
        keyword = np.where(eligible & (keyword > 0), np.round(keyword, 3), 0.0)
        if self.classifier is None:
            best = keyword.max()
            if best < MIN_SCORE:
                return []
            order = self._best(keyword, keyword >= best * RELATIVE_CUTOFF, limit)
            return [self._match(p, keyword[p], analysis) for p in order]
        return self._blend(analysis, keyword, eligible, limit)

    def _eligible(self, age: int | None, area: str | None, exclude: tuple[str, ...]) -> np.ndarray:
        """Which entries may be offered: for this age and area, and not already shown."""
        eligible = np.ones(len(self._entries), dtype=bool)
        if age is not None:
            eligible &= (self._age_min <= age) & (age <= self._age_max)
        if area:
            eligible &= np.array([e.area in (area, NATIONAL, "") for e in self._entries])
        for key in exclude:
            if key in self._position:
                eligible[self._position[key]] = False
        return eligible

    def _need_vector(self, scores: Mapping[str, float]) -> np.ndarray:
        vector = np.zeros(len(self._need_column))
        for need, score in scores.items():
            column = self._need_column.get(need)
            if column is not None:
                vector[column] = score
        return vector

    def _keyword_scores(
        self, analysis: _Analysis, need_scores: Mapping[str, float], likely_age: int | None
    ) -> np.ndarray:
        """Every entry's keyword score: its needs (most for the one it lists first), its own
        keywords, and its own words in the message; a narrow age band fitting the age gets
        a little more."""
        scores = np.asarray(self._keyword_weights @ self._need_vector(need_scores), dtype=float)
        for owner, score in need_scores.items():
            if owner.startswith("entry:") and owner[6:] in self._position:
                scores[self._position[owner[6:]]] += KEYWORD_WEIGHT * score
        scores[analysis.term_positions] += TEXT_WEIGHT * analysis.term_scores
        if likely_age is not None:
            fits = (scores > 0) & (self._age_min <= likely_age) & (likely_age <= self._age_max)
            scores[fits] *= self._age_fit[fits]
        return scores

    def _learned_scores(self, probabilities: Mapping[str, float]) -> np.ndarray:
        """Each entry's share of the classifier's view: the probability of its best need
        (weighted by rank), and CLASSIFIER_EXTRA_NEEDS of the others'."""
        vector = self._need_vector(probabilities)
        total = np.asarray(self._learned_weights @ vector, dtype=float)
        weighted = self._learned_weights.multiply(vector[np.newaxis, :]).tocsr()
        best = np.asarray(weighted.max(axis=1).todense(), dtype=float).ravel()
        return best + CLASSIFIER_EXTRA_NEEDS * (total - best)

    def _blend(
        self, analysis: _Analysis, keyword: np.ndarray, eligible: np.ndarray, limit: int
    ) -> list[Match]:
        """Keyword scores blended with the classifier's probabilities, best first."""
        if not analysis.probabilities:
            return []
        learned = np.where(eligible, self._learned_scores(analysis.probabilities), 0.0)
        best_keyword = float(keyword.max())
        if best_keyword < MIN_SCORE and (
            float(learned.max()) < CLASSIFIER_ALONE_MIN
            or analysis.evidence < CLASSIFIER_ALONE_EVIDENCE
        ):
            return []
        scale = max(best_keyword, KEYWORD_SCALE)
        blended = BLEND_KEYWORD * keyword / scale + (1 - BLEND_KEYWORD) * learned
        blended = np.where(eligible, np.round(blended, 3), 0.0)
        best = float(blended.max())
        if best <= 0:
            return []
        order = self._best(blended, blended >= best * BLENDED_RELATIVE_CUTOFF, limit)
        return [self._match(p, blended[p], analysis) for p in order]

    def _best(self, scores: np.ndarray, keep: np.ndarray, limit: int) -> list[int]:
        """Positions of the ``limit`` best entries among ``keep`` (score above 0), in rank
        order: best score first; on a tie, the more specialised (narrower age band)."""
        candidates = np.flatnonzero(keep & (scores > 0))
        if len(candidates) > SHORTLIST:
            top = np.argpartition(-scores[candidates], SHORTLIST)[:SHORTLIST]
            candidates = candidates[top]
        ordered = sorted(
            (int(p) for p in candidates),
            key=lambda p: (-float(scores[p]), _age_span(self._entries[p]), self._entries[p].key),
        )
        return ordered[:limit]

    def _match(self, position: int, score: float, analysis: _Analysis) -> Match:
        entry = self._entries[position]
        matched = tuple(need for need in entry.needs if need in analysis.need_hits)
        return Match(entry, round(float(score), 3), matched)
