"""Evaluate signposting, safeguarding and telling kinds of message apart, through the real
REST channel.

Starts both servers on spare ports with a fresh database, sends every message as a new
conversation, and prints top-1/top-3 routing accuracy (with the misses); per safeguarding
category, how many crisis messages got the emergency reply first (recall) and how many
look-alikes did (false alarms), as a family would meet them (the held-out sets
eval/safety_heldout.yml, eval/safety_heldout2.yml and eval/safety_heldout3.yml, each written
by someone who never saw the patterns, when they exist; the
development sets beside it, marked as such); and how often praise, complaints, problems,
feedback, "turned down" and questions are told apart (the development set
tests/data/kinds_dev.yml, and eval/kinds_heldout.yml when present).
Usage: python scripts/evaluate.py [--model models/send-assistant.tar.gz] [--only safety|kinds]
       [--set tests/data/kinds_dev_w2.yml ...]
(--set: with --only kinds, these development files instead of kinds_dev.yml and the
held-out set; with --only safety, these instead of the safeguarding sets; with --only
signpost, these signposting files instead of eval/signpost.yml.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.directory.age_question import AGE_QUESTION, NOT_SURE  # noqa: E402
from bot.kinds import KINDS, QUESTION  # noqa: E402
from bot.safety.evaluate import evaluate, load_set, table  # noqa: E402
from bot.safety.followup_eval import (  # noqa: E402
    evaluate_followups,
    followup_table,
    load_followups,
)
from bot.safety.reply import EMERGENCY_LINE  # noqa: E402
from scripts import servers  # noqa: E402
from tests.conftest import free_port  # noqa: E402

HELD_OUT_SAFETY = ROOT / "eval" / "safety_heldout.yml"
# A second held-out set (writer h2, stop 24): written for a fresh look, never tuned on.
HELD_OUT_SAFETY_2 = ROOT / "eval" / "safety_heldout2.yml"
# A third (writer h3, stop 25): written after round 6, first measured after round 7.
HELD_OUT_SAFETY_3 = ROOT / "eval" / "safety_heldout3.yml"
DEV_SAFETY = tuple(
    ROOT / "tests" / "data" / f"safety_dev{s}.yml"
    for s in ("", "_blind", "_blind2", "_blind3", "_blind4", *(f"_w{n}" for n in range(4, 17)))
)


def emergency_first(messages: list[dict]) -> bool:
    """True when the first message of a reply is the emergency reply."""
    return bool(messages) and EMERGENCY_LINE in (messages[0].get("text") or "")


def signposted(messages: list[dict]) -> list[str]:
    for message in messages:
        custom = message.get("custom") or {}
        if "signpost" in custom:
            return list(custom["signpost"])
    return []


def asked_age(messages: list[dict]) -> bool:
    """The one question before an answer (to a parent or, reworded, to a young person)."""
    buttons = [b.get("title") for m in messages for b in m.get("buttons") or []]
    return any(m.get("text") == AGE_QUESTION for m in messages) or NOT_SURE in buttons


def not_sure_payload(messages: list[dict]) -> str:
    buttons = [b for m in messages for b in m.get("buttons") or []]
    return next(b["payload"] for b in buttons if b["title"] == NOT_SURE)


def evaluate_signposting(assistant: servers.Assistant, path: Path) -> tuple[float, float]:
    """Top-1/top-3 of the services named. When the assistant asks the one question it may
    ask first (the age), the evaluator presses "Not sure", as a family without an age to
    give would, so the age is never taken from the labels."""
    examples = yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]
    top1 = top3 = questions = alarms = 0
    misses = []
    for number, example in enumerate(examples):
        sender = f"eval-signpost-{path.stem}-{number}"
        reply = assistant.say(sender, example["text"])
        alarms += emergency_first(reply)
        if asked_age(reply):
            questions += 1
            reply = assistant.say(sender, not_sure_payload(reply))
        got = signposted(reply)
        right = example["keys"]
        hit1 = bool(got) and got[0] in right
        hit3 = any(key in got[:3] for key in right)
        top1 += hit1
        top3 += hit3
        if not hit1:
            misses.append((hit3, right, got, example["text"]))
    n = len(examples)
    print(f"\nSignposting ({path.relative_to(ROOT)}, {n} messages, REST channel)")
    print(f"  top-1 accuracy: {top1 / n:.1%}  ({top1}/{n})")
    print(f"  top-3 accuracy: {top3 / n:.1%}  ({top3}/{n})")
    print(f'  asked the age first: {questions} times ("{NOT_SURE}" pressed)')
    print(f"  emergency reply given (false alarms): {alarms / n:.1%}  ({alarms}/{n})")
    if misses:
        print("  Misses at top-1 ('in top 3' or 'MISSED'; expected -> got):")
        for hit3, right, got, text in misses:
            mark = "in top 3" if hit3 else "MISSED  "
            print(f"    {mark} {right} -> {got or 'topic menu'} | {text}")
    return top1 / n, top3 / n


def evaluate_safety(assistant: servers.Assistant, path: Path, label: str) -> None:
    """Recall per category and false alarms, each message a new conversation."""
    counter = iter(range(10**9))

    def detect(text: str) -> bool:
        return emergency_first(assistant.say(f"eval-safety-{path.stem}-{next(counter)}", text))

    tallies = evaluate(load_set(path), detect)
    print(
        f"\nSafeguarding: {path.relative_to(ROOT)} ({label}, REST channel, emergency reply first)"
    )
    print(table(tallies, show_texts="HELD OUT" not in label))  # a held-out set's misses unread


FOLLOWUPS_DEV = ROOT / "tests" / "data" / "safety_followups_dev.yml"
FOLLOWUPS_HELD_OUT = ROOT / "eval" / "safety_followups_heldout.yml"


def evaluate_safety_followups() -> None:
    """How the turns after an emergency reply are read (the rules, as the action reads
    them): the held-out set's figures only, the development set's with its mistakes."""
    for path, label in ((FOLLOWUPS_HELD_OUT, "HELD OUT"), (FOLLOWUPS_DEV, "development set")):
        if path.is_file():
            print(f"\nAfter an emergency reply: {path.relative_to(ROOT)} ({label})")
            tallies = evaluate_followups(load_followups(path))
            print(followup_table(tallies, show_texts=label != "HELD OUT"))


def decided_kind(messages: list[dict]) -> str:
    """What the assistant made of a message, as one of the kinds: the kind its answer
    carries (praise, complaint, problem, feedback, turned down), else "question" for a
    signposting answer or the age question, else "none" (not understood)."""
    for message in messages:
        kind = (message.get("custom") or {}).get("kind")
        if kind:
            return str(kind)
    if signposted(messages) or asked_age(messages):
        return QUESTION
    return "none"


def evaluate_kinds(assistant: servers.Assistant, path: Path, label: str) -> float:
    """Accuracy per kind, with the confusions, for a file of {text, kind} examples."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = data.get("examples") or []
    right: dict[str, int] = {k: 0 for k in KINDS}
    total: dict[str, int] = {k: 0 for k in KINDS}
    misses = []
    for number, example in enumerate(examples):
        sender = f"eval-kinds-{label}-{path.stem}-{number}"  # one conversation per message
        got = decided_kind(assistant.say(sender, example["text"]))
        want = str(example["kind"])
        total[want] = total.get(want, 0) + 1
        right[want] = right.get(want, 0) + (got == want)
        if got != want:
            misses.append((want, got, example["text"]))
    n = max(1, len(examples))
    hits = sum(right.values())
    print(f"\nKinds of message, {label} ({path.relative_to(ROOT)}, {len(examples)} messages)")
    for kind in total:
        if total[kind]:
            print(f"  {kind:12} {right[kind] / total[kind]:6.1%}  ({right[kind]}/{total[kind]})")
    print(f"  {'all':12} {hits / n:6.1%}  ({hits}/{len(examples)})")
    for want, got, text in misses:
        print(f"    {want} -> {got} | {text}")
    return hits / n


def evaluate_routing(path: Path) -> float:
    """Issue routing decisions (rules, then directory, then fallback) on labelled issues."""
    from bot.directory import Catalog, load_file
    from bot.directory.search import default_examples_path, load_examples
    from bot.routing.rules import load_routing

    directory = load_file(ROOT / "data" / "directory" / "telford_wrekin.yml")
    catalog = Catalog(directory, examples=load_examples(default_examples_path()))
    routing = load_routing()
    examples = yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]
    right = 0
    misses = []
    for example in examples:
        decision = routing.decide(example["text"], catalog)
        if decision.service == example["service"]:
            right += 1
        else:
            misses.append((example["service"], decision.service, decision.reason, example["text"]))
    n = len(examples)
    print(f"\nIssue routing ({path.relative_to(ROOT)}, {n} issues, routing decision)")
    print(f"  accuracy: {right / n:.1%}  ({right}/{n})")
    for expected, got, reason, text in misses:
        print(f"    {expected} -> {got} ({reason}) | {text}")
    return right / n


def evaluate_themes(path: Path) -> None:
    """Feedback theme tagging: precision and recall per theme."""
    from bot.feedback.themes import load_themes, tag_themes

    themes = load_themes()
    examples = yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]
    print(f"\nFeedback themes ({path.relative_to(ROOT)}, {len(examples)} examples)")
    total = {"tp": 0, "fp": 0, "fn": 0}
    for theme in themes:
        tp = fp = fn = 0
        for example in examples:
            expected = theme.key in example["themes"]
            got = theme.key in tag_themes(example["text"], themes)
            tp, fp, fn = (
                tp + (expected and got),
                fp + (got and not expected),
                fn + (expected and not got),
            )
        total = {"tp": total["tp"] + tp, "fp": total["fp"] + fp, "fn": total["fn"] + fn}
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        print(f"  {theme.key:22} precision {precision:.2f}  recall {recall:.2f}")
    precision = total["tp"] / max(1, total["tp"] + total["fp"])
    recall = total["tp"] / max(1, total["tp"] + total["fn"])
    print(f"  {'all (micro)':22} precision {precision:.2f}  recall {recall:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=servers.DEFAULT_MODEL)
    parser.add_argument(
        "--only", choices=("signpost", "safety", "kinds"), help="run only this evaluation"
    )
    parser.add_argument(
        "--set",
        type=Path,
        action="append",
        default=[],
        help="a development file to evaluate instead of the usual ones (needs --only)",
    )
    args = parser.parse_args()
    if args.set and args.only is None:
        parser.error("--set needs --only signpost, safety or kinds")
    sets = [path.resolve() for path in args.set]
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as workdir,
        servers.running(
            model=args.model,
            rasa_port=free_port(),  # spare ports: other runs on the machine may use fixed ones
            actions_port=free_port(),
            workdir=Path(workdir),
            quiet=True,
        ) as assistant,
    ):
        if args.only == "signpost":
            for path in sets or [ROOT / "eval" / "signpost.yml"]:
                evaluate_signposting(assistant, path)
        if args.only is None:
            evaluate_signposting(assistant, ROOT / "eval" / "signpost.yml")
        if args.only == "safety" and sets:
            for path in sets:
                held_out = path.resolve().parent == ROOT / "eval"
                label = "HELD OUT: never used to tune anything" if held_out else "development set"
                evaluate_safety(assistant, path, label + ("" if held_out else ": tuned on"))
        elif args.only in (None, "safety"):
            for held_out in (HELD_OUT_SAFETY, HELD_OUT_SAFETY_2, HELD_OUT_SAFETY_3):
                if held_out.is_file():
                    evaluate_safety(assistant, held_out, "HELD OUT: never used to tune anything")
                else:
                    print(f"\nNo held-out safeguarding set at {held_out.relative_to(ROOT)} yet.")
            for path in DEV_SAFETY:
                evaluate_safety(assistant, path, "development set: tuned on")
            evaluate_safety_followups()
        if args.only == "kinds" and sets:
            for path in sets:
                evaluate_kinds(assistant, path, "development set")
        elif args.only in (None, "kinds"):
            evaluate_kinds(assistant, ROOT / "tests" / "data" / "kinds_dev.yml", "development set")
            heldout = ROOT / "eval" / "kinds_heldout.yml"
            if heldout.is_file():
                evaluate_kinds(assistant, heldout, "held-out set")
            else:
                print(f"\n(No held-out kinds set at {heldout.relative_to(ROOT)}: skipped.)")
    if args.only is None:
        evaluate_routing(ROOT / "eval" / "routing.yml")
        evaluate_themes(ROOT / "eval" / "themes.yml")
    print(
        "\nTargets: top-1 >= 90%, top-3 >= 97%; safeguarding recall 100% (development) and"
        " >= 98% (held out) in every category, false alarms <= 3%."
    )
    print(f"Finished in {time.monotonic() - started:.0f} s on {time.strftime('%Y-%m-%d')}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
