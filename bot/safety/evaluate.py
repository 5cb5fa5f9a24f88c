"""Figures for the crisis detector: recall per category and false alarms.

A set is YAML in the shape ``{categories: {<key>: {crisis: [...], lookalike: [...]}}}``
(the development sets in ``tests/data/safety_dev*.yml`` and the held-out set in
``eval/safety_heldout.yml``) or the older flat ``{examples: [{text, crisis}]}``.
``detect`` is any function from a message to "was it treated as a crisis": the detector
itself (``python -m bot safety eval FILE``) or the whole assistant over REST
(``scripts/evaluate.py``, ``make eval``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ALL = "all"


@dataclass
class Tally:
    """Counts for one category (or all of them)."""

    caught: int = 0
    crisis: int = 0
    alarms: int = 0
    lookalikes: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.crisis if self.crisis else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.alarms / self.lookalikes if self.lookalikes else 0.0


def load_set(path: Path) -> dict[str, dict[str, list[str]]]:
    """A set as ``{category: {"crisis": [...], "lookalike": [...]}}`` ("all" for flat sets)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if "categories" in data:
        return {
            str(key): {
                "crisis": [str(t) for t in (value or {}).get("crisis") or ()],
                "lookalike": [str(t) for t in (value or {}).get("lookalike") or ()],
            }
            for key, value in data["categories"].items()
        }
    examples = data.get("examples") or []
    return {
        ALL: {
            "crisis": [str(e["text"]) for e in examples if e.get("crisis")],
            "lookalike": [str(e["text"]) for e in examples if not e.get("crisis")],
        }
    }


def evaluate(
    messages: dict[str, dict[str, list[str]]], detect: Callable[[str], bool]
) -> dict[str, Tally]:
    """Tally recall and false alarms per category, and for all categories together."""
    tallies: dict[str, Tally] = {}
    total = Tally()
    for key, sets in messages.items():
        tally = tallies.setdefault(key, Tally())
        for text in sets["crisis"]:
            hit = detect(text)
            for t in (tally, total) if key != ALL else (tally,):
                t.crisis += 1
                t.caught += hit
            if not hit:
                tally.misses.append(text)
        for text in sets["lookalike"]:
            alarm = detect(text)
            for t in (tally, total) if key != ALL else (tally,):
                t.lookalikes += 1
                t.alarms += alarm
            if alarm:
                tally.false_alarms.append(text)
    if ALL not in tallies:
        tallies[ALL] = total
    return tallies


def table(tallies: dict[str, Tally], show_texts: bool = True) -> str:
    """The figures as a plain-text table, the misses and false alarms listed under it."""
    lines = [f"  {'category':30} {'recall':>16}  {'false alarms':>16}"]
    for key, t in tallies.items():
        recall = f"{t.recall:6.1%} ({t.caught}/{t.crisis})"
        alarms = f"{t.false_alarm_rate:5.1%} ({t.alarms}/{t.lookalikes})"
        if key == ALL:
            lines.append("  " + "-" * 66)
        lines.append(f"  {key:30} {recall:>16}  {alarms:>16}")
    if show_texts:
        for key, t in tallies.items():
            if key == ALL:
                continue
            lines += [f"    MISSED {key}: {text}" for text in t.misses]
            lines += [f"    false alarm {key}: {text}" for text in t.false_alarms]
    return "\n".join(lines)
