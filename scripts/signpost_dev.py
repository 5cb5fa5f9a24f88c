"""Top-1/top-3 of the directory ranker on the development set, straight from Catalog.search.

No servers and no Rasa: a quick loop for improving bot/directory/search.py, the need
synonyms and the ranker's examples without touching the held-out eval/ set. It also says
how often the age question would be asked (bot/directory/age_question.py).
Usage: python scripts/signpost_dev.py [--file tests/data/signpost_dev.yml] [--misses] [--cv]
(--cv: 5-fold cross-validation on data/directory/examples.yml instead, each fold ranked
by a catalog whose classifier learnt from the other four. The examples are labelled with
needs, so an answer counts when the entry it names is best for one of those needs.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.directory import Catalog, extract_age, load_file  # noqa: E402
from bot.directory.age_question import age_changes_answer  # noqa: E402
from bot.directory.classifier import Example, load_examples  # noqa: E402
from bot.directory.search import default_examples_path  # noqa: E402

DEV_FILE = ROOT / "tests" / "data" / "signpost_dev.yml"
DIRECTORY_FILE = ROOT / "data" / "directory" / "telford_wrekin.yml"


def asks_age(catalog: Catalog, text: str) -> bool:
    """Whether the assistant would ask the age before answering ``text``."""
    if extract_age(text) is not None:
        return False

    def rank(age: int | None) -> list[str]:
        return [m.entry.key for m in catalog.search(text, age=age)]

    return age_changes_answer(rank, text)


def report(catalog: Catalog, examples: tuple[Example, ...], show_misses: bool) -> None:
    """Print top-1/top-3 accuracy (any labelled key counts), misses, and age questions."""
    top1 = top3 = asked = 0
    for example in examples:
        got = [m.entry.key for m in catalog.search(example.text)]
        hit1 = bool(got) and got[0] in example.keys
        hit3 = any(key in got[:3] for key in example.keys)
        top1, top3 = top1 + hit1, top3 + hit3
        if asks_age(catalog, example.text):
            asked += 1
            print(f"  asks the age: {example.text}")
        if show_misses and not hit1:
            mark = "in top 3" if hit3 else "MISSED  "
            print(f"  {mark} {list(example.keys)} -> {got or 'topic menu'} | {example.text}")
    n = len(examples)
    print(f"top-1 {top1 / n:.1%} ({top1}/{n})  top-3 {top3 / n:.1%} ({top3}/{n})")
    print(f"age question asked for {asked}/{n} messages")


def cross_validate(folds: int = 5) -> None:
    """Top-1/top-3 on each fold of examples.yml, ranked by a classifier trained on the rest."""
    import random

    directory = load_file(DIRECTORY_FILE)
    examples = list(load_examples(default_examples_path()))
    random.Random(0).shuffle(examples)
    top1 = top3 = 0
    for fold in range(folds):
        held = examples[fold::folds]
        rest = tuple(e for i, e in enumerate(examples) if i % folds != fold)
        catalog = Catalog(directory, examples=rest)
        for example in held:
            got = [m.entry.needs[0] for m in catalog.search(example.text) if m.entry.needs]
            top1 += bool(got) and got[0] in example.keys
            top3 += any(need in got[:3] for need in example.keys)
    n = len(examples)
    print(f"{folds}-fold cross-validation on examples.yml ({n} messages)")
    print(f"top-1 {top1 / n:.1%} ({top1}/{n})  top-3 {top3 / n:.1%} ({top3}/{n})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEV_FILE)
    parser.add_argument("--misses", action="store_true", help="list every top-1 miss")
    parser.add_argument("--cv", action="store_true", help="5-fold cross-validation instead")
    args = parser.parse_args()
    if args.cv:
        cross_validate()
        return 0
    catalog = Catalog(load_file(DIRECTORY_FILE), examples=load_examples(default_examples_path()))
    report(catalog, load_examples(args.file), args.misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
