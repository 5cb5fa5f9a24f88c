"""The pure readers behind the importer: phones, easy-read summaries, opening times,
taxonomy terms and search words."""

from __future__ import annotations

import pytest

from bot.directory.easyread import easy_summary, plain_text
from bot.directory.index import entry_terms, index_words
from bot.directory.phones import PhoneError, is_fiction_or_helpline, parse_phone
from bot.directory.records import Entry, Need
from bot.directory.schedules import ScheduleError, clock, render_hours, weekday
from bot.directory.taxonomy import Term, ages_from_term, default_map_path, load_taxonomy_map

# Ofcom keeps 01632 960xxx, 07700 900xxx, 0306 999 0xxx and 0808 157 0xxx for drama.


@pytest.mark.parametrize(
    ("typed", "display", "dial", "extension"),
    [
        ("01632 960123", "01632 960123", "+441632960123", None),
        ("(01632) 960123", "(01632) 960123", "+441632960123", None),
        ("01632-960-123", "01632-960-123", "+441632960123", None),
        ("+44 (0)1632 960123", "+44 (0)1632 960123", "+441632960123", None),
        ("+44 1632 960123", "+44 1632 960123", "+441632960123", None),
        ("0044 1632 960123", "0044 1632 960123", "+441632960123", None),
        ('"+44 1632 960123"', "+44 1632 960123", "+441632960123", None),
        ("01632 960123 ext 100", "01632 960123 ext 100", "+441632960123", "100"),
        ("01632 960123 x100", "01632 960123 x100", "+441632960123", "100"),
        ("01632 960123, extension 7", "01632 960123, extension 7", "+441632960123", "7"),
        ("Tel: 07700 900123", "Tel: 07700 900123", "+447700900123", None),
        ("0800 1111", "0800 1111", "+448001111", None),
        ("0808 157 0123", "0808 157 0123", "+448081570123", None),
        ("0306 999 0123", "0306 999 0123", "+443069990123", None),
        ("116 123", "116 123", "116123", None),
        ("111", "111", "111", None),
        ("999", "999", "999", None),
    ],
)
def test_uk_phone_numbers_as_directories_type_them(typed, display, dial, extension):
    phone = parse_phone(typed)
    assert (phone.display, phone.dial, phone.extension) == (display, dial, extension)


def test_a_separate_extension_field_is_added_to_the_display():
    phone = parse_phone("01632 960123", extension=100)
    assert (phone.display, phone.dial, phone.extension) == (
        "01632 960123 ext 100", "+441632960123", "100",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "is empty"),
        ("12345", "is not a UK number (it should start with 0 or +44)"),
        ("+1 212 555 0100", "is not a UK number"),
        ("(223) 346 12361", "is not a UK number (it should start with 0 or +44)"),
        ("01632 9601", "has 9 digits; UK numbers have 10 or 11"),
        ("01632 960123 960124", "has 17 digits; UK numbers have 10 or 11"),
        ("call reception", "has characters that are not digits"),
    ],
)
def test_what_is_not_a_uk_number_says_why(typed, reason):
    with pytest.raises(PhoneError) as caught:
        parse_phone(typed)
    assert str(caught.value) == reason


def test_sample_data_may_only_use_fiction_ranges_and_real_helplines():
    assert is_fiction_or_helpline(parse_phone("01632 960123"))
    assert is_fiction_or_helpline(parse_phone("0800 1111"))  # Childline
    assert is_fiction_or_helpline(parse_phone("116 123"))  # Samaritans
    assert not is_fiction_or_helpline(parse_phone("020 7946 0000"))


@pytest.mark.parametrize(
    ("description", "summary", "cut"),
    [
        ("Sensory play for under-fives. Parents stay.", "Sensory play for under-fives.", False),
        ("", "", False),
        (
            "The helpline refers anyone without a home to services within Example City, "
            "first come first served.",
            "The helpline refers anyone without a home to services within Example City.",
            True,
        ),
        (
            "Counselling for young people who feel anxious because exams, friendships and "
            "family life can all pile up at once.",
            "Counselling for young people who feel anxious.",
            True,
        ),
        (
            "<p>Free <b>advice</b> &amp; support.</p><ul><li>Ring us</li></ul>",
            "Free advice & support.",
            False,
        ),
    ],
)
def test_summaries_are_cut_at_a_clause(description, summary, cut):
    assert easy_summary(description) == (summary, cut)
    assert len(summary.split()) <= 15


def test_markup_is_removed_from_descriptions():
    assert plain_text("**Weekly** group, see [our page](https://x.example.org)") == (
        "Weekly group, see our page"
    )


def test_opening_times_in_one_readable_form():
    weekdays = [{"weekday": day, "opens_at": "09:00", "closes_at": "17:00"} for day in range(1, 6)]
    assert render_hours(weekdays) == ("Mon-Fri 9am-5pm", [])
    assert render_hours(
        [
            {"byday": "MO,WE,FR", "opens_at": "09:30:00", "closes_at": "12:00:00"},
            {"byday": "SA", "opens_at": "2026-01-03T10:00:00.000Z", "closes_at": "13:00+00:00"},
            {"freq": "MONTHLY", "byday": "-1FR", "opens_at": "18:00", "closes_at": "20:00"},
        ]
    ) == ("Mon, Wed, Fri 9:30am-12pm; Sat 10am-1pm; last Fri of the month 6pm-8pm", [])
    assert weekday(7) == weekday("Sunday") == weekday("SU") == weekday(0) == 6
    assert clock("0930") == (9, 30)
    with pytest.raises(ScheduleError):
        weekday(8)
    with pytest.raises(ScheduleError):
        clock("half past nine")


def test_age_groups_and_source_tags_are_never_needs():
    needs = [Need("speech_language", "Speech and language", ("speech",))]
    mapping = load_taxonomy_map(default_map_path(), needs + _all_needs_named_in_the_map())
    for name in ("0-5 years", "Ages 11 to 16", "Under 5s", "16+", "All ages", "Source: FIS"):
        assert mapping.needs_for(Term(name=name)) == ()
    assert mapping.needs_for(Term(name="Anything", vocabulary="Age Group")) == ()
    assert mapping.needs_for(Term(name="Speech and language")) == ("speech_language",)
    assert mapping.needs_for(Term(name="speech_language", vocabulary="x")) == ("speech_language",)
    assert mapping.needs_for(Term(name="Pottery")) is None
    assert ages_from_term("0-5 years") == (0, 5)
    assert ages_from_term("Under 18s") == (0, 17)
    assert ages_from_term("16+") == (16, 99)


def _all_needs_named_in_the_map() -> list[Need]:
    import yaml

    data = yaml.safe_load(default_map_path().read_text())
    keys = {need for rule in data["terms"] for need in rule["needs"]}
    return [Need(key, key, ()) for key in sorted(keys - {"speech_language"})]


def test_every_need_in_the_shipped_map_is_in_needs_yml(sample_directory):
    mapping = load_taxonomy_map(default_map_path(), sample_directory.needs)
    assert mapping.rules  # it loaded: every rule names needs that exist


def test_an_entrys_search_words_weigh_by_field():
    entry = Entry(
        key="x", name="Community Counselling", kind="service", summary="Talk to someone.",
        needs=(), description="Counselling and support for anxiety.", taxonomy=("Therapy",),
    )  # fmt: skip
    terms = entry_terms(entry)
    assert terms["counsell"] == 1.0  # in the name, which says most
    assert terms["therapy"] == 0.8
    assert terms["anxiety"] == 0.4
    assert "support" not in terms and "and" not in terms  # says nothing about the service
    assert index_words("My 2 boys see speech therapists") == ["boys", "see", "speech", "therapist"]
