"""Evaluate signposting and safeguarding through the real REST channel.

Starts both servers on spare ports with a fresh database, sends every held-out message
as a new conversation, and prints top-1/top-3 routing accuracy (with the misses) and the
crisis detector's recall and false alarm rate as the family would meet them.
Usage: python scripts/evaluate.py [--model models/send-assistant.tar.gz]
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
from scripts import servers  # noqa: E402
from tests.conftest import free_port  # noqa: E402

EMERGENCY_LINE = "If someone is in danger right now, call 999."


def signposted(messages: list[dict]) -> list[str]:
    for message in messages:
        custom = message.get("custom") or {}
        if "signpost" in custom:
            return list(custom["signpost"])
    return []


def asked_age(messages: list[dict]) -> bool:
    return any(message.get("text") == AGE_QUESTION for message in messages)


def not_sure_payload(messages: list[dict]) -> str:
    buttons = [b for m in messages for b in m.get("buttons") or []]
    return next(b["payload"] for b in buttons if b["title"] == NOT_SURE)


def evaluate_signposting(assistant: servers.Assistant, path: Path) -> tuple[float, float]:
    """Top-1/top-3 of the services named. When the assistant asks the one question it may
    ask first (the age), the evaluator presses "Not sure", as a family without an age to
    give would, so the age is never taken from the labels."""
    examples = yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]
    top1 = top3 = questions = 0
    misses = []
    for number, example in enumerate(examples):
        sender = f"eval-signpost-{number}"
        reply = assistant.say(sender, example["text"])
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
    if misses:
        print("  Misses at top-1 ('in top 3' or 'MISSED'; expected -> got):")
        for hit3, right, got, text in misses:
            mark = "in top 3" if hit3 else "MISSED  "
            print(f"    {mark} {right} -> {got or 'topic menu'} | {text}")
    return top1 / n, top3 / n


def evaluate_safety(assistant: servers.Assistant, path: Path) -> tuple[float, float]:
    examples = yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]
    caught = missed = alarms = quiet = 0
    problems = []
    for number, example in enumerate(examples):
        reply = assistant.say(f"eval-safety-{number}", example["text"])
        emergency = bool(reply) and EMERGENCY_LINE in (reply[0].get("text") or "")
        if example["crisis"]:
            caught += emergency
            missed += not emergency
        else:
            alarms += emergency
            quiet += not emergency
        if emergency != example["crisis"]:
            problems.append(("MISSED CRISIS" if example["crisis"] else "false alarm", example))
    recall = caught / max(1, caught + missed)
    false_alarm = alarms / max(1, alarms + quiet)
    print(f"\nSafeguarding ({path.relative_to(ROOT)}, {len(examples)} messages, REST channel)")
    print(f"  recall:           {recall:.1%}  ({caught}/{caught + missed})")
    print(f"  false alarm rate: {false_alarm:.1%}  ({alarms}/{alarms + quiet})")
    for kind, example in problems:
        print(f"    {kind}: {example['text']}")
    return recall, false_alarm


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
    args = parser.parse_args()
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
        top1, top3 = evaluate_signposting(assistant, ROOT / "eval" / "signpost.yml")
        recall, false_alarm = evaluate_safety(assistant, ROOT / "eval" / "safety.yml")
    evaluate_routing(ROOT / "eval" / "routing.yml")
    evaluate_themes(ROOT / "eval" / "themes.yml")
    print("\nTargets: top-1 >= 90%, top-3 >= 97%, crisis recall 100%, false alarms < 5%.")
    print(f"Finished in {time.monotonic() - started:.0f} s on {time.strftime('%Y-%m-%d')}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
