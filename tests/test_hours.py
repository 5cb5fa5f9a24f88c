"""Opening hours read from the directory's words, answered in UK time with bank holidays."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from bot.directory import load_file
from bot.directory.hours import (
    UK,
    load_bank_holidays,
    open_now_text,
    open_state,
    parse_hours,
    say_time,
)
from tests.conftest import SAMPLE_DIRECTORY


@pytest.mark.parametrize(
    ("text", "days", "opens", "closes"),
    [
        ("Monday to Friday, 9am to 5pm", [0, 1, 2, 3, 4], time(9), time(17)),
        ("Mon-Fri 9am-5pm", [0, 1, 2, 3, 4], time(9), time(17)),
        ("Monday to Friday, 8:30am to 4:30pm, term time", [0, 1, 2, 3, 4], time(8, 30),
         time(16, 30)),
        ("weekdays 9 to 5", [0, 1, 2, 3, 4], time(9), time(17)),
        ("Tuesday 09:30 to 11:30", [1], time(9, 30), time(11, 30)),
        ("Sat 10am-12 noon", [5], time(10), time(12)),
    ],
)  # fmt: skip
def test_hours_in_the_words_councils_write(text, days, opens, closes):
    hours = parse_hours(text)
    assert sorted({o.day for o in hours.openings}) == days
    assert {(o.opens, o.closes) for o in hours.openings} == {(opens, closes)}


def test_unknown_hours_are_kept_as_words_and_flags_are_read():
    school = parse_hours("School hours in term time")
    assert not school.known and school.term_time_only
    front_door = parse_hours("Monday to Friday, 8:45am to 5:15pm; out of hours team at other times")
    assert front_door.known and front_door.out_of_hours
    two = parse_hours("Tuesday 9am to 11am; Thursday 1 to 3pm")
    assert [(o.day, o.opens, o.closes) for o in two.openings] == [
        (1, time(9), time(11)), (3, time(13), time(15)),
    ]  # fmt: skip


def test_every_sample_entry_with_hours_is_read_or_quoted():
    directory = load_file(SAMPLE_DIRECTORY)
    unread = [e.hours for e in directory.entries if not parse_hours(e.hours).known]
    assert unread == [
        "School hours in term time",
        "School hours in term time",
        "Group meets once a month, after school",
    ]


def _easter(year: int) -> date:
    """Easter Sunday (anonymous Gregorian algorithm), to check the data file."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = h + m + 114 - 31 * ((a + 11 * h + 19 * m) // 433)
    return date(year, n // 31, n % 31 + 1)


def test_bank_holidays_cover_2025_to_2028_with_easter_right():
    holidays = load_bank_holidays()
    for year in range(2025, 2029):
        days = [d for d in holidays if d.year == year]
        assert len(days) == 8, year
        assert all(d.weekday() < 5 for d in days)
        assert _easter(year) - timedelta(days=2) in holidays  # Good Friday
        assert _easter(year) + timedelta(days=1) in holidays  # Easter Monday
    assert holidays[date(2026, 12, 28)] == "Boxing Day"


def test_open_now_in_uk_time_across_the_clock_change():
    hours = parse_hours("Monday to Friday, 9am to 5pm")
    # 08:30 UTC in July is 09:30 in London (BST): open.
    assert open_state(hours, datetime(2026, 7, 1, 8, 30, tzinfo=timezone.utc), {}).open
    # 08:30 UTC in January is 08:30 in London (GMT): not yet.
    state = open_state(hours, datetime(2026, 1, 7, 8, 30, tzinfo=timezone.utc), {})
    assert not state.open and state.next_open == datetime(2026, 1, 7, 9, 0, tzinfo=UK)


def test_answers_name_bank_holidays_and_the_next_opening():
    iass = "Monday to Friday, 9am to 5pm"
    boxing_day = datetime(2026, 12, 28, 10, 0, tzinfo=UK)
    assert open_now_text("SENDIASS", iass, boxing_day) == (
        "Today is a bank holiday (Boxing Day). SENDIASS is closed now. It opens tomorrow at 9am."
    )
    assert open_now_text("SENDIASS", iass, datetime(2026, 12, 29, 10, 0, tzinfo=UK)) == (
        "SENDIASS is open now, until 5pm."
    )
    # Thursday evening before New Year's Day: Friday is a holiday, so Monday.
    assert open_now_text("SENDIASS", iass, datetime(2026, 12, 31, 18, 0, tzinfo=UK)) == (
        "SENDIASS is closed now. It opens on Monday at 9am."
    )
    assert open_now_text("LSAT", "Monday to Friday, 8:30am to 4:30pm, term time",
                         datetime(2026, 12, 29, 10, 0, tzinfo=UK)) == (
        "LSAT is open now, until 4:30pm. It is open in term time only."
    )  # fmt: skip
    assert open_now_text("MHST", "School hours in term time", boxing_day) == (
        "I can't tell if MHST is open now. Their hours are: School hours in term time."
    )
    assert say_time(time(12)) == "12 noon" and say_time(time(16, 30)) == "4:30pm"
