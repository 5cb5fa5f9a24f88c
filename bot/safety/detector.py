"""The crisis detector: readable patterns and a learned model, recall first.

Every incoming message is read by both, before the dialogue model, on every channel:

* the patterns of each category in ``data/safety/categories.yml`` (general rules: who does
  what to whom, or a word family with a time or place, never copies of example sentences;
  ``(?! ...)`` after a rule lists everyday uses of the same words), and
* the learned part (``bot.safety.learned``), so wording nobody listed is still caught.

A message is a crisis when the learned part's score reaches its threshold, or when a
pattern fires and the learned part does not all but rule it out (a score under
``PATTERN_FLOOR``: "what are the signs of grooming, for our leaflet", "used to self harm
at 14, doing great now", "stubbed my toe so hard i want to die lmao"). Words alone cannot
tell those from a disclosure; a model that has read hundreds of them can. With words of
distance in the message (``distance`` in the data file: a course, the past, a joke), the
learned part must lean towards a crisis (``DISTANCE_FLOOR``) for a pattern to stand, and be
nearly sure (``DISTANCE_THRESHOLD``) to call one alone. It still leans
towards raising the alarm: a false alarm costs a family a few lines of text, a missed
crisis could cost a life. When the model cannot be loaded, the patterns decide alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.safety.categories import Catalogue, load_catalogue
from bot.safety.learned import DISTANCE_FLOOR, PATTERN_FLOOR, threshold_for
from bot.safety.learned import detector as learned_detector
from bot.text import normalise

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SafetyCheck:
    """The detector's verdict on one message.

    ``reasons`` says which part fired for which category ("self_harm: pattern",
    "suicidal: learned 0.83", "self_harm: pattern overruled, learned 0.03");
    ``category`` is the one whose help comes first and ``categories`` all that fired, in
    priority order.
    """

    crisis: bool
    reasons: tuple[str, ...] = ()
    category: str | None = None
    categories: tuple[str, ...] = ()
    score: float = 0.0  # the learned part's crisis probability (0 when it did not run)


def pattern_categories(text: str, catalogue: Catalogue | None = None) -> tuple[str, ...]:
    """The categories whose patterns match ``text``, in priority order."""
    catalogue = catalogue or load_catalogue()
    plain = normalise(text or "")
    if not plain:
        return ()
    padded = " " + plain  # see categories.compile_patterns
    return tuple(
        key
        for key, patterns in catalogue.compiled.items()
        if any(p.search(padded) for p in patterns)
    )


def check_message(
    text: str,
    *,
    learned: bool = True,
    threshold: float | None = None,
    floor: float | None = None,
) -> SafetyCheck:
    """Whether ``text`` suggests someone is at risk, which kind of harm, and why.

    ``learned=False`` runs the patterns alone; ``threshold`` and ``floor`` override the
    learned part's own thresholds (one for every category) and the score under which it
    overrules a pattern (all three for measuring)."""
    catalogue = load_catalogue()
    if not normalise(text or "") or catalogue.only_closing(text):
        return SafetyCheck(False)  # nothing, or only "thank you, goodbye"
    matched = pattern_categories(text, catalogue)
    reasons = [f"{key}: pattern" for key in matched]
    categories = list(matched)
    score = 0.0
    if learned:
        floor = PATTERN_FLOOR if floor is None else floor
        try:
            score, best = learned_detector().assess(text)
        except Exception:  # the patterns still stand if the model cannot be loaded
            log.exception("safety: the learned part is unavailable; patterns only")
        else:
            distanced = catalogue.distanced(text)
            if distanced:
                floor = max(floor, DISTANCE_FLOOR)
            if matched and score < floor:
                reasons = [f"{key}: pattern overruled, learned {score:.2f}" for key in matched]
                categories = []
            if score >= (threshold_for(best, distanced) if threshold is None else threshold):
                reasons.append(f"{best}: learned {score:.2f}")
                if best not in categories:
                    categories.append(best)
    order = {key: index for index, key in enumerate(catalogue.keys)}
    # Categories the patterns saw come first (they are precise), then the model's.
    ranked = tuple(sorted(categories, key=lambda k: (k not in matched, order[k])))
    category = ranked[0] if ranked else None
    return SafetyCheck(bool(ranked), tuple(reasons), category, ranked, score)


def is_crisis(text: str) -> bool:
    """True when ``text`` suggests a child or adult is at risk."""
    return check_message(text).crisis


def warm_up() -> None:
    """Load the patterns and the learned model now, so the first message is not slow."""
    check_message("warm up")
