"""The age question: when it is worth asking, and reading the answer."""

from __future__ import annotations

import pytest

from bot.directory.age_question import (
    AGE_BANDS,
    AGE_QUESTION,
    age_changes_answer,
    parse_age_answer,
    question_buttons,
)


def ranking(by_age: dict[int | None, list[str]]):
    """A ranking that answers ``by_age[age]``, nothing for ages it does not list."""
    return lambda age: by_age.get(age, [])


EARLY_YEARS_ELSEWHERE = {None: ["school_help"], 3: ["early_help"], 21: ["adult_help"]}


def test_asks_when_two_age_bands_would_get_a_service_not_shown():
    by_age = {**EARLY_YEARS_ELSEWHERE, 8: ["school_help"], 13: ["school_help"]}
    assert age_changes_answer(ranking(by_age), "she only gets 1 to 1 for an hour a week")


@pytest.mark.parametrize(
    "by_age",
    [
        # One band differs: not worth a question.
        {None: ["school_help"], 3: ["early_help"], 8: ["school_help"], 21: ["school_help"]},
        # Each band's best is already among the answers without an age.
        {None: ["school_help", "early_help", "adult_help"], 3: ["early_help"], 21: ["adult_help"]},
        # Other ages get nothing rather than something else: the need implies the age.
        {None: ["college_help"], 17: ["college_help"], 21: ["college_help"]},
        # Nothing matches at all: the topic menu, not a question.
        {3: ["early_help"], 21: ["adult_help"]},
    ],
)
def test_does_not_ask_when_the_age_does_not_change_who_helps(by_age):
    assert not age_changes_answer(ranking(by_age), "who can help")


def test_a_message_that_hints_at_an_age_is_never_asked():
    assert not age_changes_answer(ranking(EARLY_YEARS_ELSEWHERE), "help for him at nursery")
    assert not age_changes_answer(ranking(EARLY_YEARS_ELSEWHERE), "his teacher says so")


@pytest.mark.parametrize(
    ("said", "age"),
    [
        ("7", 7),
        ("he's 7", 7),
        ("Shes nineteen", 19),
        ("twelve", 12),
        ("nearly 4", 4),
        ("year 3", 8),
        ("he is in year 9", 14),
        ("18 months", 1),
        ("he's 18 months", 1),
        ("Under 5", 3),
        ("16 or 17", 17),
        ("Age 16 or 17", 17),
        ("reception", 4),
        ("she's at college", 17),
        ("my son is 14", 14),
        ("dunno", None),
        ("not sure sorry", None),
        ("40", None),
        ("100", None),
        ("", None),
        ("my son is 14 and he needs help with his speech", None),
    ],
)
def test_reads_the_age_in_a_short_answer(said, age):
    assert parse_age_answer(said) == age


def test_question_is_one_short_sentence_with_a_button_per_age_band_and_not_sure():
    assert AGE_QUESTION == "How old is your child or young person? Services differ by age."
    assert AGE_QUESTION.isascii()
    *bands, not_sure = question_buttons()
    titles = ["Under 5", "Age 5 to 10", "Age 11 to 15", "Age 16 or 17", "Age 18 to 25"]
    assert [b["title"] for b in bands] == titles
    assert bands[0]["payload"] == '/inform_age{"age": "3"}'
    assert [parse_age_answer(b["title"]) for b in bands] == [band.age for band in AGE_BANDS]
    assert not_sure == {"title": "Not sure", "payload": "/inform_age"}
