"""Leave-one-writer-out cross-validation of the crisis detector.

Each development set was written by one writer at one time. For each set in turn, the
learned part is trained on everything else (the category examples and look-alikes, the
ordinary messages and the other development sets) and scores that set; the patterns run
as they are. The pooled scores say how the whole detector does on a writer it has not
read, and choose the learned part's threshold and the floor under which it overrules a
pattern (``python -m bot safety cv``).

One caveat, printed with the figures: the patterns were tuned on the older development
sets, so on those the pattern side of the figures is not blind. The learned side is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.safety.categories import load_catalogue
from bot.safety.detector import pattern_categories
from bot.safety.evaluate import ALL, Tally, table
from bot.safety.learned import (
    DISTANCE_FLOOR,
    DISTANCE_THRESHOLD,
    LIFE_CATEGORIES,
    LIFE_THRESHOLD,
    NONE,
    PATTERN_FLOOR,
    THRESHOLD,
    Sample,
    development_samples,
    development_sets,
    embeddings,
    ordinary_messages,
    score_matrix,
    signposting_samples,
    signposting_sets,
    train,
    training_samples,
)


@dataclass(frozen=True)
class Scored:
    """One development message with what the detector's parts said about it."""

    writer: str
    category: str  # its category in the set (a look-alike's: the category it imitates)
    crisis: bool
    score: float  # the learned part's crisis score from a model that never read the set
    pattern: bool  # whether a pattern fired
    distanced: bool  # whether it has words of distance (a course, the past, a joke)
    text: str
    best: str = ""  # the learned part's most likely category


def _labelled(path: Path) -> list[tuple[str, bool, str]]:
    from bot.safety.evaluate import load_set

    return [
        (key, crisis, text)
        for key, sets in load_set(path).items()
        for crisis, texts in ((True, sets["crisis"]), (False, sets["lookalike"]))
        for text in texts
    ]


ORDINARY = "ordinary"  # the category of a signposting question (it imitates none)


def leave_one_writer_out(paths: Sequence[Path] | None = None) -> list[Scored]:
    """Every development message scored by a model trained without its set."""
    catalogue = load_catalogue()
    paths = list(paths or development_sets() + signposting_sets())
    base = training_samples(catalogue, ordinary_messages())
    sets = {
        path.stem: (
            signposting_samples(path, catalogue)
            if path in signposting_sets()
            else development_samples(path, catalogue)
        )
        for path in paths
    }
    every = base + [s for samples in sets.values() for s in samples]
    vectors = dict(zip([s.text for s in every], embeddings([s.text for s in every]), strict=True))
    scored: list[Scored] = []
    for path in paths:
        train_on: list[Sample] = base + [
            s for name, samples in sets.items() if name != path.stem for s in samples
        ]
        model = train(train_on, np.stack([vectors[s.text] for s in train_on]))
        rows = (
            [(ORDINARY, False, s.text) for s in sets[path.stem]]
            if path in signposting_sets()
            else _labelled(path)
        )
        texts = [text for _, _, text in rows]
        probabilities = score_matrix(model, texts, embeddings(texts))
        classes = [str(c) for c in model.classifier.classes_]
        none = classes.index(NONE)
        for (key, crisis, text), row in zip(rows, probabilities, strict=True):
            best = max((p, c) for p, c in zip(row, classes, strict=True) if c != NONE)[1]
            scored.append(
                Scored(
                    path.stem,
                    key,
                    crisis,
                    float(1.0 - row[none]),
                    bool(pattern_categories(text, catalogue)),
                    catalogue.distanced(text),
                    text,
                    best,
                )
            )
    return scored


def fires(
    item: Scored,
    threshold: float,
    floor: float,
    patterns: bool = True,
    distance_floor: float = DISTANCE_FLOOR,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> bool:
    """The detector's rule (``bot.safety.detector.check_message``) on the scores."""
    if item.best in LIFE_CATEGORIES:
        threshold = min(threshold, LIFE_THRESHOLD)
    if item.distanced:
        floor = max(floor, distance_floor)
        threshold = max(threshold, distance_threshold)
    return item.score >= threshold or (patterns and item.pattern and item.score >= floor)


def tallies(
    scored: Sequence[Scored],
    threshold: float = THRESHOLD,
    floor: float = PATTERN_FLOOR,
    patterns: bool = True,
    distance_floor: float = DISTANCE_FLOOR,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> dict[str, Tally]:
    """Recall and false alarms per category (and all) under one choice of settings."""
    result: dict[str, Tally] = {}
    total = Tally()
    for item in scored:
        hit = fires(item, threshold, floor, patterns, distance_floor, distance_threshold)
        counted = (result.setdefault(item.category, Tally()),)
        for tally in counted + ((total,) if item.category != ORDINARY else ()):
            if item.crisis:
                tally.crisis += 1
                tally.caught += hit
            else:
                tally.lookalikes += 1
                tally.alarms += hit
        if item.crisis and not hit:
            result[item.category].misses.append(f"[{item.writer}] {item.text}")
        if not item.crisis and hit:
            result[item.category].false_alarms.append(f"[{item.writer}] {item.text}")
    result.pop(ALL, None)  # the flat sets' messages count in "all" only
    result[ALL] = total  # crisis messages and look-alikes; ordinary questions apart
    return result


LIFE = LIFE_CATEGORIES


def report(
    scored: Sequence[Scored],
    thresholds: Sequence[float] = (0.5, 0.6, THRESHOLD, 0.8, 0.9),
    floors: Sequence[float] = (0.0, 0.1, 0.2, 0.3),
    show_texts: bool = False,
) -> str:
    """The settings grid, then the per-category table at the detector's own settings."""
    writers = sorted({s.writer for s in scored})
    lines = [
        f"Leave-one-writer-out cross-validation: {len(writers)} development sets, "
        f"{len(scored)} messages; each set scored by a model trained without it.",
        "Recall / false alarms, all sets pooled (the patterns are tuned on the older sets;"
        f" the learned part needs at most {LIFE_THRESHOLD} for {', '.join(sorted(LIFE))}):",
    ]
    for threshold in thresholds:
        cells = []
        for floor in floors:
            t = tallies(scored, threshold, floor)[ALL]
            cells.append(f"floor {floor:.2f}: {t.recall:6.1%} / {t.false_alarm_rate:5.1%}")
        alone = tallies(scored, threshold, 0.0, patterns=False)[ALL]
        cells.append(f"learned alone: {alone.recall:6.1%} / {alone.false_alarm_rate:5.1%}")
        ordinary = tallies(scored, threshold, PATTERN_FLOOR).get(ORDINARY)
        if ordinary:
            cells.append(f"ordinary questions: {ordinary.false_alarm_rate:5.1%}")
        lines.append(f"  threshold {threshold:.2f}  " + "  ".join(cells))
    lines.append(
        f"  (words of distance: a pattern needs {DISTANCE_FLOOR}, the learned part alone"
        f" {DISTANCE_THRESHOLD}; without those rules:"
    )
    plain = tallies(scored, distance_floor=0.0, distance_threshold=0.0)[ALL]
    lines.append(
        f"   threshold {THRESHOLD}, floor {PATTERN_FLOOR}: "
        f"{plain.recall:6.1%} / {plain.false_alarm_rate:5.1%})"
    )
    lines.append(
        f"\nPer writer at the detector's settings (threshold {THRESHOLD}, {LIFE_THRESHOLD} for"
        f" {', '.join(sorted(LIFE_CATEGORIES))}; floor {PATTERN_FLOOR},"
        f" with words of distance {DISTANCE_FLOOR}, and {DISTANCE_THRESHOLD} alone):"
    )
    for writer in writers:
        found = tallies([s for s in scored if s.writer == writer])
        t = found[ALL] if found[ALL].crisis or found[ALL].lookalikes else found[ORDINARY]
        lines.append(
            f"  {writer:28} recall {t.recall:6.1%} ({t.caught}/{t.crisis})"
            f"  false alarms {t.false_alarm_rate:5.1%} ({t.alarms}/{t.lookalikes})"
        )
    lines.append("\nPer category, all sets pooled (ordinary: signposting questions, not in all):")
    lines.append(table(tallies(scored), show_texts=show_texts))
    return "\n".join(lines)


def report_for(scored: Sequence[Scored], writers: Sequence[str], show_texts: bool) -> str:
    """The per-category table for some writers only (e.g. the sets the patterns never saw)."""
    chosen = [s for s in scored if s.writer in writers]
    return f"Per category, {', '.join(writers)} only:\n" + table(
        tallies(chosen), show_texts=show_texts
    )
