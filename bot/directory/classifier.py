"""A small learned ranker for the directory: which entry a message is most likely about.

It complements the transparent keyword search in ``bot.directory.search`` rather than
replacing it. The keyword search understands the need taxonomy and ages; this model learns
from labelled messages in families' own words (``data/directory/examples.yml``) how people
actually ask, including words no synonym list has.

* Features: TF-IDF of word 1-2 grams and of character 2-5 grams inside words, on
  ``bot.text.normalise``d text, so "sensery" still shares most of its pieces with
  "sensory".
* Model: multinomial logistic regression predicting an entry key. An example's best key is
  one sample; each other acceptable key is an extra sample with a lower weight.
* Extra training text, made when training and never written to a file: each need synonym
  in the taxonomy ("speech delay") labelled with the entries that list that need first, and
  each entry's name and keywords labelled with that entry.

scikit-learn is imported only when a classifier is trained, so importing ``bot.directory``
stays fast. Training is deterministic and takes a second or two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.directory.records import Directory
from bot.text import normalise

OTHER_KEY_WEIGHT = 0.5  # weight of a sample labelled with an acceptable but not best key
SYNTHETIC_WEIGHT = 1.0  # weight of a need synonym or entry keyword used as a message
REGULARISATION_C = 10.0
RANDOM_STATE = 0
# Words that carry no need: greetings, thanks and chat. Together with scikit-learn's
# English stop words they do not count as evidence (see ``KeyClassifier.evidence``).
CHAT_WORDS = frozenset(
    {"hi", "hiya", "hey", "hello", "thanks", "thank", "ta", "cheers", "ok", "okay", "yes"}
    | {"yeah", "lol", "pls", "please", "whats", "im", "dont", "cant", "wont", "good"}
)


@dataclass(frozen=True)
class Example:
    """A labelled message: the best entry key first, then other good answers."""

    text: str
    keys: tuple[str, ...]


def load_examples(path: Path) -> tuple[Example, ...]:
    """Read labelled messages (``examples: [{text, keys: [best, other_ok...]}]``)."""
    with Path(path).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    examples: list[Example] = []
    for number, item in enumerate(data.get("examples") or [], start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{path}: example {number} is not a mapping")
        text = str(item.get("text") or "").strip()
        keys = tuple(str(key) for key in item.get("keys") or ())
        if not text or not keys:
            raise ValueError(f"{path}: example {number} needs a text and at least one key")
        examples.append(Example(text, keys))
    return tuple(examples)


def synthetic_examples(directory: Directory, entry_words: bool = True) -> tuple[Example, ...]:
    """Each need synonym as a message, labelled with the entries that list that need first;
    with ``entry_words``, also each entry's name and keywords labelled with that entry."""
    first_for: dict[str, list[str]] = {}
    for entry in directory.entries:
        if entry.needs:
            first_for.setdefault(entry.needs[0], []).append(entry.key)
    examples: list[Example] = []
    for need in directory.needs:
        keys = first_for.get(need.key)
        if keys:
            examples.extend(Example(synonym, (key,)) for synonym in need.synonyms for key in keys)
    if entry_words:
        for entry in directory.entries:
            examples.extend(Example(words, (entry.key,)) for words in (entry.name, *entry.keywords))
    return tuple(examples)


def trained_classifier(examples: tuple[Example, ...], directory: Directory) -> KeyClassifier:
    """A classifier trained on ``examples`` and the directory's synonyms. The last few are
    kept, so a catalog rebuilt from an unchanged directory does not train again."""
    return _trained(examples, synthetic_examples(directory))


@lru_cache(maxsize=4)
def _trained(examples: tuple[Example, ...], synthetic: tuple[Example, ...]) -> KeyClassifier:
    return KeyClassifier().fit(examples, synthetic)


class KeyClassifier:
    """TF-IDF features and logistic regression predicting a directory entry key."""

    def __init__(
        self,
        c: float = REGULARISATION_C,
        other_key_weight: float = OTHER_KEY_WEIGHT,
        synthetic_weight: float = SYNTHETIC_WEIGHT,
    ) -> None:
        self.c = c
        self.other_key_weight = other_key_weight
        self.synthetic_weight = synthetic_weight
        self._features: Any = None
        self._model: Any = None
        self.keys: tuple[str, ...] = ()
        self._known_words: frozenset[str] = frozenset()

    def fit(self, examples: Iterable[Example], synthetic: Iterable[Example] = ()) -> KeyClassifier:
        """Train on labelled messages, plus lower-weight ``synthetic`` ones."""
        from sklearn.feature_extraction.text import (
            ENGLISH_STOP_WORDS,
            TfidfVectorizer,
        )
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        texts: list[str] = []
        labels: list[str] = []
        weights: list[float] = []

        def add(batch: Iterable[Example], weight: float) -> None:
            for example in batch:
                for rank, key in enumerate(dict.fromkeys(example.keys)):
                    texts.append(example.text)
                    labels.append(key)
                    weights.append(weight * (1.0 if rank == 0 else self.other_key_weight))

        add(examples, 1.0)
        add(synthetic, self.synthetic_weight)
        if len(set(labels)) < 2:
            raise ValueError("a classifier needs examples for at least two keys")
        self._features = FeatureUnion(
            [
                (
                    "words",
                    TfidfVectorizer(preprocessor=normalise, ngram_range=(1, 2), sublinear_tf=True),
                ),
                (
                    "chars",
                    TfidfVectorizer(
                        preprocessor=normalise,
                        analyzer="char_wb",
                        ngram_range=(2, 5),
                        sublinear_tf=True,
                    ),
                ),
            ]
        )
        matrix = self._features.fit_transform(texts)
        self._model = LogisticRegression(C=self.c, solver="liblinear", random_state=RANDOM_STATE)
        self._model.fit(matrix, labels, sample_weight=weights)
        self.keys = tuple(str(key) for key in self._model.classes_)
        self._known_words = (
            frozenset(word for text in texts for word in normalise(text).split())
            - ENGLISH_STOP_WORDS
            - CHAT_WORDS
        )
        return self

    def evidence(self, text: str) -> int:
        """How many different words of ``text`` the classifier learnt from, leaving out
        stop words and chat: "what's the weather" has none, so its scores mean little."""
        return len(self._known_words.intersection(normalise(text).split()))

    def scores(self, text: str) -> dict[str, float]:
        """The probability of each known key for ``text`` (they sum to 1)."""
        return self.scores_many([text])[0]

    def scores_many(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """``scores`` for several texts at once (faster than one by one)."""
        if self._model is None:
            raise RuntimeError("the classifier has not been trained")
        probabilities = self._model.predict_proba(self._features.transform(list(texts)))
        return [
            {key: float(p) for key, p in zip(self.keys, row, strict=True)} for row in probabilities
        ]
