"""The learned part of the crisis detector: wording nobody listed is still caught.

One small model reads every message next to the readable patterns:

* Features: TF-IDF of word 1-2 grams and of character 2-5 grams inside words, on
  ``bot.text.normalise``d text (so "sucidal" and "self harmin" still share most pieces),
  and the message's sentence embedding (all-MiniLM-L6-v2 run in numpy, ``bot.safety.embed``),
  so "i just want it all to stop" sits near "i want to end my life" with no word in common.
* Model: one logistic regression over 18 classes (the 17 categories and "none", balanced).
  The crisis score is 1 - P(none); the category is the most likely of the 17.
* Training text: each category's examples (its label) and look-alikes ("none") from
  ``data/safety/categories.yml``; ordinary messages that must never alarm ("none"): the
  directory's labelled questions (``data/directory/examples.yml``) and every non-crisis
  intent of the NLU data (``data/nlu/*.yml``); and the development sets
  (``tests/data/safety_dev*.yml``, ``tests/data/safety_tuned_flat.yml``): crisis messages
  with their category, look-alikes as "none"; and the ordinary questions of the signposting
  development sets (``tests/data/signpost_dev*.yml``; long messages about a hard week that
  are not a crisis). The held-out sets in ``eval/`` are never read.
* How it decides with the patterns (``bot.safety.detector``): the learned part alone calls
  a crisis at ``THRESHOLD`` (``LIFE_THRESHOLD`` when its category is suicide, self-harm or
  an overdose); a pattern's crisis stands unless the learned part is nearly
  sure it is not one (score under ``PATTERN_FLOOR``), or, when the message has words of
  distance (a course, a definition, a story, the past, a joke: ``distance`` in the data
  file), unless it leans against one (under ``DISTANCE_FLOOR``); with words of distance the
  learned part alone needs ``DISTANCE_THRESHOLD``, whatever the category. All were chosen
  by leave-one-writer-out cross-validation (``python -m bot safety cv``): each
  development set in turn is scored by a model trained without it (docs/figures.md).
* Tried and left out by the same cross-validation (round 5, docs/figures.md): averaging
  this model in probability with a softer one (C = 4, a regression on the embedding alone,
  a nearest-neighbour vote on the embedding) and per-category thresholds. At the same false
  alarms none caught more than one crisis more of 2,669 and most caught fewer: averaging
  pulls scores towards the middle, where crises and look-alikes mix, and thresholds per
  category fit the writers they were chosen on.

The model is trained once and kept in ``var/cache/`` under a hash of its training text,
so each process loads it in about a second and never retrains per call; the embeddings of
the training text are cached too, so a data change re-embeds only new messages.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.config import PROJECT_ROOT
from bot.safety.categories import Catalogue, load_catalogue
from bot.text import normalise

log = logging.getLogger(__name__)

NONE = "none"
THRESHOLD = 0.7  # the learned part alone calls a crisis at this score (leave-one-writer-out CV)
# Where a miss can cost a life soonest, the learned part alone needs less (same CV).
LIFE_THRESHOLD = 0.6
LIFE_CATEGORIES = frozenset({"suicidal", "self_harm", "overdose_poisoning"})
PATTERN_FLOOR = 0.1  # a pattern's crisis stands unless the learned score is below this (CV)
DISTANCE_FLOOR = 0.8  # ... or below this when the message has words of distance (a course)
# With words of distance the learned part alone needs to be nearly sure (same CV).
DISTANCE_THRESHOLD = 0.95
REGULARISATION_C = 16.0
EMBEDDING_WEIGHT = 1.0  # the embedding's scale next to the TF-IDF features
RANDOM_STATE = 0
MODEL_VERSION = "2"  # bump when the features or the model change
CACHE_DIR = PROJECT_ROOT / "var" / "cache"
DIRECTORY_EXAMPLES = PROJECT_ROOT / "data" / "directory" / "examples.yml"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
DEVELOPMENT_DIR = PROJECT_ROOT / "tests" / "data"
# Directory questions answered by the safeguarding front door or the LADO are worries, not
# ordinary questions: they are never taught to the model as "not a crisis".
SAFEGUARDING_KEYS = frozenset({"family_connect", "lado"})
_ENTITY = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


@dataclass(frozen=True)
class Sample:
    text: str
    label: str


def development_sets(directory: Path = DEVELOPMENT_DIR) -> list[Path]:
    """The development sets the model learns from (never the held-out set in ``eval/``)."""
    found = sorted(directory.glob("safety_dev*.yml")) + sorted(directory.glob("safety_tuned*.yml"))
    return [p for p in found if "heldout" not in p.name]


def development_samples(path: Path, catalogue: Catalogue) -> list[Sample]:
    """One development set as samples: crisis messages with their category, look-alikes as
    "none". A flat set's crisis messages take the category their patterns give (or none)."""
    from bot.safety.detector import pattern_categories
    from bot.safety.evaluate import ALL, load_set

    samples: list[Sample] = []
    for key, sets in load_set(path).items():
        for text in sets["crisis"]:
            label = key
            if key == ALL:
                matched = pattern_categories(text, catalogue)
                if not matched:
                    continue
                label = matched[0]
            samples.append(Sample(text, label))
        samples += [Sample(text, NONE) for text in sets["lookalike"]]
    return samples


def ordinary_messages(
    directory_examples: Path = DIRECTORY_EXAMPLES, nlu_dir: Path = NLU_DIR
) -> list[str]:
    """Messages that must never alarm: directory questions (except those for the safeguarding
    front door or the LADO) and non-crisis NLU examples."""
    texts: list[str] = []
    if directory_examples.is_file():
        data = yaml.safe_load(directory_examples.read_text(encoding="utf-8")) or {}
        texts += [
            str(e["text"])
            for e in data.get("examples") or ()
            if e.get("text") and not SAFEGUARDING_KEYS & set(e.get("keys") or ())
        ]
    for path in sorted(nlu_dir.glob("*.yml")) if nlu_dir.is_dir() else ():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or ():
            if "intent" not in block or block["intent"] == "crisis":
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(_ENTITY.sub(lambda m: m.group(1) or m.group(2) or "", line[2:]))
    return [t for t in texts if t.strip() and not t.strip().startswith("/")]


def training_samples(
    catalogue: Catalogue, ordinary: Sequence[str], development: Sequence[Sample] = ()
) -> list[Sample]:
    """Every labelled message the model learns from, in a fixed order."""
    samples = [Sample(text, c.key) for c in catalogue.categories for text in c.examples]
    samples += [Sample(text, NONE) for c in catalogue.categories for text in c.lookalikes]
    samples += [Sample(text, NONE) for text in ordinary]
    return samples + list(development)


def signposting_sets(directory: Path = DEVELOPMENT_DIR) -> list[Path]:
    """The signposting development sets: ordinary questions in families' own words."""
    return sorted(directory.glob("signpost_dev*.yml"))


def signposting_samples(path: Path, catalogue: Catalogue) -> list[Sample]:
    """A signposting set's questions as "none", except those for the safeguarding front door
    or the LADO and those a pattern reads as a crisis: they are worries, not taught either way."""
    from bot.safety.detector import pattern_categories

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Sample(str(e["text"]), NONE)
        for e in data.get("examples") or ()
        if e.get("text")
        and not SAFEGUARDING_KEYS & set(e.get("keys") or ())
        and not pattern_categories(str(e["text"]), catalogue)
    ]


def all_development_samples(catalogue: Catalogue) -> list[Sample]:
    """The safety development sets and the ordinary questions of the signposting ones."""
    samples = [s for path in development_sets() for s in development_samples(path, catalogue)]
    return samples + [s for p in signposting_sets() for s in signposting_samples(p, catalogue)]


def fingerprint(samples: Iterable[Sample]) -> str:
    """A hash of the training text, the model settings and the scikit-learn version."""
    import sklearn

    settings = f"{MODEL_VERSION}|{REGULARISATION_C}|{EMBEDDING_WEIGHT}|{sklearn.__version__}"
    digest = hashlib.sha256(settings.encode())
    for sample in samples:
        digest.update(f"{sample.label}\t{sample.text}\n".encode())
    return digest.hexdigest()[:16]


# --- embeddings of the training text, cached by text -----------------------------------


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def embeddings(texts: Sequence[str], cache_dir: Path | None = CACHE_DIR) -> np.ndarray:
    """Sentence embeddings of ``texts``; those of texts seen before come from the cache."""
    import joblib

    from bot.safety.embed import embed

    path = cache_dir / f"safety-embeddings-{MODEL_VERSION}.joblib" if cache_dir else None
    known: dict[str, np.ndarray] = {}
    if path and path.is_file():
        try:
            known = joblib.load(path)
        except Exception:
            log.warning("safety: the embedding cache %s could not be read", path)
    keys = [_text_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        vectors = embed([t for _, t in missing])
        known.update({k: v for (k, _), v in zip(missing, vectors, strict=True)})
        if path:
            _dump(known, path)
    return np.stack([known[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)


def _dump(value: Any, path: Path) -> None:
    import joblib

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(handle)
        joblib.dump(value, temporary)
        os.replace(temporary, path)  # atomic: another process never reads half a file
    except OSError:
        log.warning("safety: could not write %s; it stays in memory", path)


# --- the model -------------------------------------------------------------------------


class Features:
    """Word and character TF-IDF of the normalised text, and the sentence embedding."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        self.tfidf = FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                (
                    "chars",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                ),
            ]
        )

    def fit_transform(self, texts: Sequence[str], vectors: np.ndarray) -> Any:
        return self._join(self.tfidf.fit_transform([normalise(t) for t in texts]), vectors)

    def transform(self, texts: Sequence[str], vectors: np.ndarray) -> Any:
        return self._join(self.tfidf.transform([normalise(t) for t in texts]), vectors)

    @staticmethod
    def _join(tfidf: Any, vectors: np.ndarray) -> Any:
        from scipy.sparse import csr_matrix, hstack

        return hstack([tfidf, csr_matrix(vectors * EMBEDDING_WEIGHT)]).tocsr()


@dataclass
class Model:
    """The features and the 18-class classifier."""

    features: Features
    classifier: Any


def train(samples: Sequence[Sample], vectors: np.ndarray) -> Model:
    """Fit the model on ``samples`` (``vectors``: their embeddings, row for row)."""
    from sklearn.linear_model import LogisticRegression

    features = Features()
    matrix = features.fit_transform([s.text for s in samples], vectors)
    classifier = LogisticRegression(
        C=REGULARISATION_C, max_iter=3000, class_weight="balanced", random_state=RANDOM_STATE
    )
    classifier.fit(matrix, [s.label for s in samples])
    return Model(features, classifier)


def score_matrix(model: Model, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """Class probabilities, one row per text, columns in ``model.classifier.classes_``."""
    return np.asarray(model.classifier.predict_proba(model.features.transform(texts, vectors)))


class LearnedDetector:
    """The trained model and what it says about one message."""

    def __init__(self, model: Model) -> None:
        self.model = model
        classes = [str(c) for c in model.classifier.classes_]
        self._none = classes.index(NONE)
        self._categories = [(i, c) for i, c in enumerate(classes) if c != NONE]
        # Each message is embedded once however often it is checked in a turn; a small cache,
        # in memory only, so message text does not linger.
        self.assess = lru_cache(maxsize=32)(self._assess)

    def _assess(self, text: str) -> tuple[float, str]:
        from bot.safety.embed import embed

        row = score_matrix(self.model, [text], embed([text]))[0]
        best = max(self._categories, key=lambda item: row[item[0]])[1]
        return float(1.0 - row[self._none]), best

    def crisis_score(self, text: str) -> float:
        """How likely ``text`` is a crisis (1 - the probability of "none")."""
        return self.assess(text)[0]

    def category(self, text: str) -> str:
        """The most likely category, were ``text`` a crisis."""
        return self.assess(text)[1]

    def predict(self, text: str, threshold: float | None = None) -> tuple[float, str | None]:
        """The crisis score and the most likely category (None below the threshold: the
        category's own unless ``threshold`` is given)."""
        score, category = self.assess(text)
        return score, (category if score >= (threshold or threshold_for(category)) else None)


def threshold_for(category: str, distanced: bool = False) -> float:
    """The score at which the learned part alone calls a crisis of this category (in a
    message with words of distance when ``distanced``)."""
    found = LIFE_THRESHOLD if category in LIFE_CATEGORIES else THRESHOLD
    return max(found, DISTANCE_THRESHOLD) if distanced else found


def _cache_path(key: str, cache_dir: Path) -> Path:
    return cache_dir / f"safety-learned-{key}.joblib"


def load_or_train(
    catalogue: Catalogue | None = None,
    ordinary: Sequence[str] | None = None,
    cache_dir: Path = CACHE_DIR,
    development: Sequence[Sample] | None = None,
) -> LearnedDetector:
    """The model for the current training text: from the cache, or trained and cached."""
    import joblib

    catalogue = catalogue or load_catalogue()
    samples = training_samples(
        catalogue,
        ordinary if ordinary is not None else ordinary_messages(),
        development if development is not None else all_development_samples(catalogue),
    )
    path = _cache_path(fingerprint(samples), cache_dir)
    if path.is_file():
        try:
            return LearnedDetector(joblib.load(path))
        except Exception:
            log.warning("safety: the cached model %s could not be read; training again", path)
    model = train(samples, embeddings([s.text for s in samples], cache_dir))
    _dump(model, path)
    return LearnedDetector(model)


_lock = threading.Lock()
_detector: LearnedDetector | None = None


def detector() -> LearnedDetector:
    """The process's model, loaded (or trained) once on first use."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = load_or_train()
    return _detector
