"""The learned part of the ranking (a need classifier) and its blend with the keyword search."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.directory import Catalog, load_file
from bot.directory.classifier import (
    Example,
    NeedClassifier,
    inputs_hash,
    load_examples,
    synthetic_examples,
    trained_classifier,
)
from bot.directory.records import Directory
from bot.directory.search import default_examples_path

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY_FILE = ROOT / "data" / "directory" / "telford_wrekin.yml"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_file(DIRECTORY_FILE)


@pytest.fixture(scope="module")
def examples() -> tuple[Example, ...]:
    return load_examples(default_examples_path())


@pytest.fixture(scope="module")
def catalog(directory: Directory, examples: tuple[Example, ...]) -> Catalog:
    return Catalog(directory, examples=examples)


def test_examples_file_is_well_formed(directory: Directory, examples: tuple[Example, ...]) -> None:
    assert default_examples_path() == ROOT / "data" / "directory" / "examples.yml"
    assert len(examples) >= 400
    needs = {need.key for need in directory.needs}
    assert all(example.text and example.keys for example in examples)
    # Labelled with needs, not services: the same examples serve any council's directory.
    assert {key for example in examples for key in example.keys} <= needs


def test_examples_do_not_copy_the_held_out_set(examples: tuple[Example, ...]) -> None:
    import yaml

    held_out = yaml.safe_load((ROOT / "eval" / "signpost.yml").read_text(encoding="utf-8"))
    held_out_texts = {item["text"].strip().lower() for item in held_out["examples"]}
    assert not held_out_texts & {example.text.strip().lower() for example in examples}


@pytest.mark.parametrize(
    ("text", "best"),
    [
        ("my son has been excluded from school again, what are my rights", "sendiass"),
        ("my 3 year old isnt talking yet, just a few words", "speech_language_therapy"),
        ("can my daughter get a taxi to school, its too far to walk", "travel_assistance"),
        ("need a ramp and a downstairs bathroom for my sons wheelchair", "housing_adaptations"),
        ("i want to make a complaint about the council", "complaints"),
        ("which benefits can we claim, is there help with dla forms", "contact_helpline"),
    ],
)
def test_clear_messages_rank_the_right_entry_first(catalog: Catalog, text: str, best: str) -> None:
    matches = catalog.search(text)
    assert matches
    assert matches[0].entry.key == best
    assert len(matches) <= 3


@pytest.mark.parametrize(
    "text", ["hello", "what's the weather", "thanks", "tell me a joke", "asdfgh", "", "   "]
)
def test_messages_with_no_need_get_nothing(catalog: Catalog, text: str) -> None:
    assert catalog.search(text) == []


def test_filters_and_limit_still_apply(catalog: Catalog) -> None:
    text = "my 3 year old isnt talking yet, just a few words"
    excluded = catalog.search(text, exclude=("speech_language_therapy",))
    assert "speech_language_therapy" not in {m.entry.key for m in excluded}
    assert len(catalog.search(text, limit=1)) == 1
    # Portage is for under-fives only.
    assert "portage" not in {m.entry.key for m in catalog.search(text, age=12)}


def test_classifier_predicts_needs_and_is_deterministic(
    catalog: Catalog, directory: Directory, examples: tuple[Example, ...]
) -> None:
    text = "he wont wear socks and screams at the hairdresser"
    assert catalog.classifier is not None
    first = catalog.classifier.scores(text)
    second = NeedClassifier().fit(examples, synthetic_examples(directory.needs)).scores(text)
    assert first == second
    # One class per need (a few dozen), whatever the number of services.
    assert set(first) == {need.key for need in directory.needs}
    assert max(first, key=lambda need: first[need]) == "daily_living_sensory"
    assert sum(first.values()) == pytest.approx(1.0)


def test_classifier_is_trained_once_and_shared_through_the_disk_cache(
    directory: Directory, examples: tuple[Example, ...], tmp_path: Path, monkeypatch
) -> None:
    from bot.directory import classifier as module

    monkeypatch.setattr(module, "_MEMORY", {})
    first = trained_classifier(examples, directory.needs, tmp_path)
    (saved,) = tmp_path.glob("needs-*.pickle")
    assert saved.name == f"needs-{inputs_hash(examples, directory.needs)}.pickle"
    # Another process (no memory of it) loads the same file instead of training.
    monkeypatch.setattr(module, "_MEMORY", {})
    monkeypatch.setattr(NeedClassifier, "fit", lambda *a, **k: pytest.fail("trained again"))
    second = trained_classifier(examples, directory.needs, tmp_path)
    text = "my son cant get his words out"
    assert second is not first
    assert second.scores(text) == first.scores(text)
    # Different inputs (a changed examples file) mean a different file.
    assert inputs_hash(examples[:-1], directory.needs) != inputs_hash(examples, directory.needs)


def test_the_same_message_is_read_once(catalog: Catalog, monkeypatch) -> None:
    """The age question ranks one message for several ages: the classifier reads it once."""
    assert catalog.classifier is not None
    calls: list[str] = []
    real = NeedClassifier.scores_many

    def counting(self, texts):  # type: ignore[no-untyped-def]
        calls.extend(texts)
        return real(self, texts)

    monkeypatch.setattr(NeedClassifier, "scores_many", counting)
    text = "my daughter is 7 and struggles to hold a pencil"
    ranks = [[m.entry.key for m in catalog.search(text, age=age)] for age in (None, 3, 8, 13)]
    assert ranks[0][0] == "occupational_therapy"
    assert calls == [text]


def test_an_entry_missing_from_the_directory_is_never_returned(
    directory: Directory, examples: tuple[Example, ...]
) -> None:
    smaller = replace(directory, entries=tuple(e for e in directory.entries if e.key != "sendiass"))
    catalog = Catalog(smaller, examples=examples)
    for text in (
        "my son has been excluded from school again, what are my rights",
        "wheres the sendiass number",
        "got a date for tribunal in march and i have no idea what im doing",
    ):
        assert all(m.entry.key != "sendiass" for m in catalog.search(text))


def test_the_part_that_asks_outweighs_the_story_around_it(catalog: Catalog) -> None:
    text = (
        "she has had physio since she was small and it has been great. "
        "how do i get a taxi to take her to school"
    )
    assert catalog.search(text)[0].entry.key == "travel_assistance"


def test_a_waiting_list_is_not_a_need_in_itself(catalog: Catalog) -> None:
    assert catalog.search("we are still on the physio waiting list")[0].entry.key == "physiotherapy"


def test_a_condition_named_in_two_words_counts_for_less(catalog: Catalog) -> None:
    phrases = catalog.matched_phrases("she has downs syndrome and needs speech therapy")
    weights = {" ".join(p.words): p.weight for p in phrases}
    assert weights["down syndrom"] < weights["speech therapy"]
