"""The learned part of the ranking: which needs a message is about.

It complements the transparent keyword search in ``bot.directory.search`` rather than
replacing it. The keyword search understands the need taxonomy and ages; this model learns
from labelled messages in families' own words (``data/directory/examples.yml``) how people
actually ask, including words no synonym list has.

It predicts needs (the few dozen keys of ``needs.yml``), never services: services come from
the needs they list. So it does not grow with the directory, is trained once for a given
set of examples and needs, and is cached on disk by a hash of those inputs
(``var/cache/directory/``); every process (the action server, the CLI, a second action
server) loads the same file in a fraction of a second instead of training.

* Features: TF-IDF of word 1-2 grams and of character 2-5 grams inside words, on
  ``bot.text.normalise``d text, so "sensery" still shares most of its pieces with
  "sensory".
* Model: multinomial logistic regression predicting a need key. An example's main need is
  one sample; each other need it lists is an extra sample with a lower weight.
* Extra training text, made when training and never written to a file: each synonym in
  the need taxonomy ("speech delay") labelled with its need.

scikit-learn is imported only when a classifier is trained or loaded, so importing
``bot.directory`` stays fast.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.directory.records import Need
from bot.text import normalise

log = logging.getLogger(__name__)

OTHER_KEY_WEIGHT = 0.5  # weight of a sample labelled with a need that is not the main one
SYNTHETIC_WEIGHT = 1.0  # weight of a need synonym used as a message
REGULARISATION_C = 10.0
RANDOM_STATE = 0
FORMAT = 3  # raise when the saved classifier's shape changes: old cache files are ignored
TEXT_CACHE_SIZE = 512  # messages whose scores are kept (the age question asks ~6 times)
# Words that carry no need: greetings, thanks and chat. Together with scikit-learn's
# English stop words they do not count as evidence (see ``NeedClassifier.evidence``).
CHAT_WORDS = frozenset(
    {"hi", "hiya", "hey", "hello", "thanks", "thank", "ta", "cheers", "ok", "okay", "yes"}
    | {"yeah", "lol", "pls", "please", "whats", "im", "dont", "cant", "wont", "good"}
)


@dataclass(frozen=True)
class Example:
    """A labelled message: the main label first, then other good ones (need keys in
    ``examples.yml``; entry keys in the development and evaluation sets)."""

    text: str
    keys: tuple[str, ...]


def load_examples(path: Path) -> tuple[Example, ...]:
    """Read labelled messages (``examples: [{text, needs: [...]}]``, or ``keys: [...]``)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there: 10x faster
    with Path(path).open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=loader) or {}  # noqa: S506 (a safe loader)
    examples: list[Example] = []
    for number, item in enumerate(data.get("examples") or [], start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{path}: example {number} is not a mapping")
        text = str(item.get("text") or "").strip()
        keys = tuple(str(key) for key in item.get("needs") or item.get("keys") or ())
        if not text or not keys:
            raise ValueError(f"{path}: example {number} needs a text and at least one label")
        examples.append(Example(text, keys))
    return tuple(examples)


def synthetic_examples(needs: Iterable[Need]) -> tuple[Example, ...]:
    """Each need synonym as a message, labelled with its need, in the order of the need keys
    (the same classifier whether the needs come from needs.yml or the database)."""
    ordered = sorted(needs, key=lambda need: need.key)
    return tuple(Example(synonym, (need.key,)) for need in ordered for synonym in need.synonyms)


class NeedClassifier:
    """TF-IDF features and logistic regression predicting a need key."""

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
        self._cache: OrderedDict[str, dict[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        state["_cache"] = OrderedDict()  # never saved: it holds family messages
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def fit(self, examples: Iterable[Example], synthetic: Iterable[Example] = ()) -> NeedClassifier:
        """Train on labelled messages, plus lower-weight ``synthetic`` ones."""
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
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
            raise ValueError("a classifier needs examples for at least two needs")
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
        self._cache = OrderedDict()
        return self

    def evidence(self, text: str) -> int:
        """How many different words of ``text`` the classifier learnt from, leaving out
        stop words and chat: "what's the weather" has none, so its scores mean little."""
        return len(self._known_words.intersection(normalise(text).split()))

    def scores(self, text: str) -> dict[str, float]:
        """The probability of each need for ``text`` (they sum to 1). The last few
        messages' scores are kept, so asking again for the same text costs nothing."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        result = self.scores_many([text])[0]
        with self._lock:
            self._cache[text] = result
            if len(self._cache) > TEXT_CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def scores_many(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """``scores`` for several texts at once (faster than one by one)."""
        if self._model is None:
            raise RuntimeError("the classifier has not been trained")
        probabilities = self._model.predict_proba(self._features.transform(list(texts)))
        return [
            {key: float(p) for key, p in zip(self.keys, row, strict=True)} for row in probabilities
        ]


def inputs_hash(examples: Sequence[Example], needs: Sequence[Need]) -> str:
    """A fingerprint of everything the classifier is trained from, and how."""
    import sklearn

    payload = json.dumps(
        {
            "format": FORMAT,
            "sklearn": sklearn.__version__,
            "params": [REGULARISATION_C, OTHER_KEY_WEIGHT, SYNTHETIC_WEIGHT, RANDOM_STATE],
            "examples": [[e.text, list(e.keys)] for e in examples],
            "needs": sorted([n.key, list(n.synonyms)] for n in needs),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def default_cache_dir() -> Path:
    """Where the classifier and saved catalogs are kept: ``CACHE_DIR``/directory."""
    from bot.config import load_settings

    return load_settings().cache_dir / "directory"


def trained_classifier(
    examples: Sequence[Example], needs: Sequence[Need], cache_dir: Path | None = None
) -> NeedClassifier:
    """The classifier for ``examples`` and ``needs``: loaded from the disk cache when one was
    trained from the same inputs, else trained now and saved for every other process."""
    digest = inputs_hash(examples, needs)
    memory = _MEMORY.get(digest)
    if memory is not None:
        return memory
    folder = cache_dir or default_cache_dir()
    path = folder / f"needs-{digest}.pickle"
    classifier = _read(path)
    if classifier is None:
        classifier = NeedClassifier().fit(examples, synthetic_examples(needs))
        _write(path, classifier)
    _MEMORY.clear()  # one classifier per process is all a server needs
    _MEMORY[digest] = classifier
    return classifier


_MEMORY: dict[str, NeedClassifier] = {}


def _read(path: Path) -> NeedClassifier | None:
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            # Our own cache file, written by _write below in a folder only we write to.
            loaded = pickle.load(handle)  # noqa: S301
    except Exception:  # noqa: BLE001 (a damaged or foreign file: train again)
        log.warning("ignoring an unreadable classifier cache file %s", path)
        return None
    return loaded if isinstance(loaded, NeedClassifier) else None


def _write(path: Path, classifier: NeedClassifier) -> None:
    """Save atomically (write, then rename), so another process never reads half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
    except OSError as exc:  # a read-only disk: the classifier still works, unsaved
        log.warning("could not save the classifier cache at %s: %s", path, exc)
