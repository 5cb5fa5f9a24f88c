"""Figures for the turns after an emergency reply (``bot.safety.followup``).

A set is YAML ``{followups: {<kind>: [message, ...]}}`` with the kinds ``secrecy``,
``text_route``, ``scared``, ``safe``, ``goodbye`` and ``other`` (anything else: the
assistant should check gently that the person is safe). Each message is read as the
action reads it, with the detector's verdict and no intent from the language model (the
rules alone). A message is answered right when:

* ``secrecy``, ``text_route``, ``scared``: that part of the answer is in the reply;
* ``safe``: the conversation ends with "I am glad you are safe now";
* ``goodbye``: it ends with the goodbye;
* ``other``: it does not end (the gentle check, or any of the answers above).

"Ended too soon" counts the messages of the first three kinds and ``other`` that would
end the safeguarding conversation: the mistake that matters most.
``python -m bot safety followups FILE`` prints the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.safety.detector import check_message
from bot.safety.followup import GOODBYE, SAFE, FollowUp, read_followup

KINDS = ("secrecy", "text_route", "scared", "safe", "goodbye", "other")
STAYS = ("secrecy", "text_route", "scared", "other")  # ending on these is a mistake


@dataclass
class FollowUpTally:
    right: int = 0
    total: int = 0
    ended_too_soon: int = 0
    wrong: list[str] = field(default_factory=list)


def load_followups(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    found = {str(k): [str(t) for t in v or ()] for k, v in (data.get("followups") or {}).items()}
    unknown = set(found) - set(KINDS)
    if unknown:
        raise ValueError(f"{path}: unknown follow-up kinds {sorted(unknown)}")
    return found


def read(text: str) -> FollowUp:
    """The follow-up as the action reads it, without the language model's intent."""
    return read_followup(text, crisis=check_message(text).crisis)


def answered_right(kind: str, followup: FollowUp) -> bool:
    if kind == "safe":
        return followup.kinds[:1] == (SAFE,)
    if kind == "goodbye":
        return followup.kinds[:1] == (GOODBYE,)
    if kind == "other":
        return not followup.ends
    return kind in followup.kinds and not followup.ends


def evaluate_followups(sets: dict[str, list[str]]) -> dict[str, FollowUpTally]:
    tallies = {kind: FollowUpTally() for kind in KINDS if kind in sets}
    for kind, texts in sets.items():
        for text in texts:
            followup = read(text)
            tally = tallies[kind]
            tally.total += 1
            if answered_right(kind, followup):
                tally.right += 1
            else:
                tally.wrong.append(f"{text}  ->  {', '.join(followup.kinds)}")
            if kind in STAYS and followup.ends:
                tally.ended_too_soon += 1
    return tallies


def followup_table(tallies: dict[str, FollowUpTally], show_texts: bool = True) -> str:
    lines = [f"  {'kind':12} {'answered right':>16}  {'ended too soon':>14}"]
    for kind, t in tallies.items():
        right = f"{t.right / t.total:6.1%} ({t.right}/{t.total})" if t.total else "-"
        ended = str(t.ended_too_soon) if kind in STAYS else "-"
        lines.append(f"  {kind:12} {right:>16}  {ended:>14}")
    total = sum(t.total for t in tallies.values())
    all_right = sum(t.right for t in tallies.values())
    all_ended = sum(t.ended_too_soon for t in tallies.values())
    share = f"{all_right / max(total, 1):6.1%} ({all_right}/{total})"
    lines.append("  " + "-" * 46)
    lines.append(f"  {'all':12} {share:>16}  {all_ended:>14}")
    if show_texts:
        for kind, t in tallies.items():
            lines += [f"    WRONG {kind}: {text}" for text in t.wrong]
    return "\n".join(lines)
