"""The learned part of the crisis detector: wording nobody listed is still caught.

A small scikit-learn model reads every message next to the readable patterns:

* Features: TF-IDF of word 1-2 grams and of character 2-5 grams inside words, on
  ``bot.text.normalise``d text, so "sucidal" and "self harmin" still share most pieces.
* Models: logistic regression for crisis or not (balanced classes), and a second one,
  trained on the crisis examples alone, naming the category when the patterns did not.
* Training text: each category's examples (its label) and look-alikes ("none") from
  ``data/safety/categories.yml``, and ordinary messages that must never alarm ("none"): the
  directory's labelled questions (``data/directory/examples.yml``) and every non-crisis
  intent of the NLU data (``data/nlu/*.yml``). Development and evaluation sets are never used.
* A message is a crisis when its crisis probability reaches ``THRESHOLD``. It is high
  because look-alikes share the crisis words: at 0.95 the learned part alone raises false
  alarms on the development look-alikes by under 2%, while it caught a fifth of the blind
  development set that the patterns of the time missed (docs/figures.md).
  ``python -m bot safety cv`` cross-validates it on its own training text.

The model is trained once and kept in ``var/cache/`` under a hash of its training text,
so each process loads it in well under a second and never retrains per call.
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
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT
from bot.safety.categories import Catalogue, load_catalogue
from bot.text import normalise

log = logging.getLogger(__name__)

NONE = "none"
THRESHOLD = 0.95  # crisis probability at or above this fires (chosen on the development sets)
REGULARISATION_C = 8.0
RANDOM_STATE = 0
MODEL_VERSION = "1"  # bump when the features or the model change
CACHE_DIR = PROJECT_ROOT / "var" / "cache"
DIRECTORY_EXAMPLES = PROJECT_ROOT / "data" / "directory" / "examples.yml"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
# Directory questions answered by the safeguarding front door or the LADO are worries, not
# ordinary questions: they are never taught to the model as "not a crisis".
SAFEGUARDING_KEYS = frozenset({"family_connect", "lado"})
_ENTITY = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


@dataclass(frozen=True)
class Sample:
    text: str
    label: str


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


def training_samples(catalogue: Catalogue, ordinary: Sequence[str]) -> list[Sample]:
    """Every labelled message the model learns from, in a fixed order."""
    samples = [Sample(text, c.key) for c in catalogue.categories for text in c.examples]
    samples += [Sample(text, NONE) for c in catalogue.categories for text in c.lookalikes]
    samples += [Sample(text, NONE) for text in ordinary]
    return samples


def fingerprint(samples: Iterable[Sample]) -> str:
    """A hash of the training text, the model settings and the scikit-learn version."""
    import sklearn

    digest = hashlib.sha256(f"{MODEL_VERSION}|{REGULARISATION_C}|{sklearn.__version__}".encode())
    for sample in samples:
        digest.update(f"{sample.label}\t{sample.text}\n".encode())
    return digest.hexdigest()[:16]


def _features() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )


def build_model(balanced: bool = True) -> Any:
    """An untrained pipeline: word and character TF-IDF, then logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    classifier = LogisticRegression(
        C=REGULARISATION_C,
        max_iter=3000,
        class_weight="balanced" if balanced else None,
        random_state=RANDOM_STATE,
    )
    return Pipeline([("features", _features()), ("classifier", classifier)])


@dataclass
class Models:
    """Two small models: crisis or not (all the text), and which category (crisis text)."""

    crisis: Any
    category: Any


def train(samples: Sequence[Sample]) -> Models:
    texts = [normalise(s.text) for s in samples]
    crisis = build_model()
    crisis.fit(texts, [s.label != NONE for s in samples])
    positive = [(t, s.label) for t, s in zip(texts, samples, strict=True) if s.label != NONE]
    category = build_model(balanced=False)
    category.fit([t for t, _ in positive], [label for _, label in positive])
    return Models(crisis, category)


class LearnedDetector:
    """The trained models and what they say about one message."""

    def __init__(self, models: Models) -> None:
        self.models = models
        self._true = list(models.crisis.classes_).index(True)

    def crisis_score(self, text: str) -> float:
        """The probability that ``text`` is a crisis."""
        return float(self.models.crisis.predict_proba([normalise(text)])[0][self._true])

    def category(self, text: str) -> str:
        """The most likely category, were ``text`` a crisis."""
        return str(self.models.category.predict([normalise(text)])[0])

    def predict(self, text: str, threshold: float = THRESHOLD) -> tuple[float, str | None]:
        """The crisis probability and the most likely category (None below ``threshold``)."""
        score = self.crisis_score(text)
        return score, (self.category(text) if score >= threshold else None)


def cross_validate(
    folds: int = 5, thresholds: Sequence[float] = (0.5, 0.7, 0.8, 0.9, THRESHOLD)
) -> str:
    """Recall on crisis examples and false alarms on the rest, each fold scored by a model
    trained on the other folds of the training text (the learned part alone)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    samples = training_samples(load_catalogue(), ordinary_messages())
    texts = np.array([normalise(s.text) for s in samples], dtype=object)
    labels = np.array([s.label != NONE for s in samples])
    scores = np.zeros(len(samples))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    for train_index, test_index in splitter.split(texts, labels):
        model = build_model().fit(list(texts[train_index]), labels[train_index])
        true = list(model.classes_).index(True)
        scores[test_index] = model.predict_proba(list(texts[test_index]))[:, true]
    lines = [f"{folds}-fold cross-validation of the learned part ({len(samples)} messages)"]
    for threshold in thresholds:
        fired = scores >= threshold
        recall = fired[labels].mean()
        alarms = fired[~labels].mean()
        lines.append(f"  threshold {threshold:.2f}: recall {recall:.1%}, false alarms {alarms:.1%}")
    return "\n".join(lines)


def _cache_path(key: str, cache_dir: Path) -> Path:
    return cache_dir / f"safety-learned-{key}.joblib"


def load_or_train(
    catalogue: Catalogue | None = None,
    ordinary: Sequence[str] | None = None,
    cache_dir: Path = CACHE_DIR,
) -> LearnedDetector:
    """The model for the current training text: from the cache, or trained and cached."""
    import joblib

    samples = training_samples(
        catalogue or load_catalogue(), ordinary if ordinary is not None else ordinary_messages()
    )
    path = _cache_path(fingerprint(samples), cache_dir)
    if path.is_file():
        try:
            return LearnedDetector(joblib.load(path))
        except Exception:
            log.warning("safety: the cached model %s could not be read; training again", path)
    model = train(samples)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_dir, suffix=".tmp")
        os.close(handle)
        joblib.dump(model, temporary)
        os.replace(temporary, path)  # atomic: another process never reads half a file
    except OSError:
        log.warning("safety: could not cache the model in %s; it stays in memory", cache_dir)
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
