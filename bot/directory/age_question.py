"""The one follow-up question the assistant may ask before signposting: the child's age.

Families should get an answer at once. The age is asked only when it really changes who
can help: some age bands would get a different best service that the answer without an
age does not show at all. Two such bands are needed, and a message that already hints at
an age ("nursery", "school") is never asked, so the question stays rare.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.directory.search import MAX_CHILD_AGE, MAX_RESULTS, extract_age, stage_age
from bot.text import normalise

AGE_QUESTION = "How old is your child or young person? Services differ by age."
MIN_MISSED_BANDS = 2  # bands whose best service is not shown without an age
MAX_ANSWER_WORDS = 6  # a longer reply is a new message, not an answer


@dataclass(frozen=True)
class AgeBand:
    """A button for the age question, and the age that stands for the whole band."""

    title: str
    age: int


# The band edges follow the directory's age limits: under-fives, school, 16-18, adults.
# Titles say "Age" so that a numbered SMS menu reads "2 Age 5 to 10", not "2 5 to 10".
AGE_BANDS = (
    AgeBand("Under 5", 3),
    AgeBand("Age 5 to 10", 8),
    AgeBand("Age 11 to 15", 13),
    AgeBand("Age 16 or 17", 17),
    AgeBand("Age 18 to 25", 21),
)

NUMBER_WORDS = {
    word: number
    for number, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
# A short answer may name a stage of education instead of an age.
STAGE_ANSWERS = {
    "nursery": 3,
    "preschool": 3,
    "reception": 4,
    "primary": 8,
    "secondary": 13,
    "sixth form": 17,
    "college": 17,
    "uni": 19,
    "university": 19,
}
_BAND_BY_TITLE = {  # a band as its button says it, or typed without "Age": "16 or 17"
    normalise(title): band.age
    for band in AGE_BANDS
    for title in (band.title, band.title.removeprefix("Age "))
}
_ONE_NUMBER = re.compile(r"^\D*?(\d{1,2})\D*$")
_MONTHS = re.compile(r"\b(\d{1,2}) ?(?:months?|mths?|mnths?)\b")

Ranking = Callable[[int | None], Sequence[str]]


def age_changes_answer(rank: Ranking, text: str = "") -> bool:
    """True when asking the age is worth a question before the first answer.

    ``rank(age)`` gives the entry keys for the family's need at that age (``None``: age
    unknown), best first. ``text`` is their message: a hint of age in it means no question.
    """
    if stage_age(text) is not None:
        return False
    shown = set(rank(None)[:MAX_RESULTS])
    if not shown:
        return False
    missed = 0
    for band in AGE_BANDS:
        best = rank(band.age)[:1]
        if best and best[0] not in shown:
            missed += 1
    return missed >= MIN_MISSED_BANDS


def parse_age_answer(text: str) -> int | None:
    """The age in a short reply to the age question: "7", "he's seven", "year 3",
    "18 months", "Under 5", "college". None when no age can be read."""
    said = " ".join(str(NUMBER_WORDS.get(word, word)) for word in normalise(text).split())
    if not 0 < len(said.split()) <= MAX_ANSWER_WORDS:
        return None
    age = _read_age(said)
    return age if age is not None and age <= MAX_CHILD_AGE else None


def _read_age(said: str) -> int | None:
    """An age from a normalised short reply, the most exact reading first."""
    if said in _BAND_BY_TITLE:
        return _BAND_BY_TITLE[said]
    months = _MONTHS.search(said)
    if months:
        return int(months.group(1)) // 12
    age = extract_age(said)
    if age is not None:
        return age
    one_number = _ONE_NUMBER.match(said)
    if one_number:
        return int(one_number.group(1))
    return next((age for stage, age in STAGE_ANSWERS.items() if f" {stage} " in f" {said} "), None)


NOT_SURE = "Not sure"


def question_buttons() -> list[dict[str, str]]:
    """One button per age band, its payload carrying the band's age to the assistant, and
    "Not sure", which gets the answer for any age."""
    bands = [
        {"title": band.title, "payload": f'/inform_age{{"age": "{band.age}"}}'}
        for band in AGE_BANDS
    ]
    return [*bands, {"title": NOT_SURE, "payload": "/inform_age"}]
