"""Importing the Who's Who: the sample data, officer YAML/CSV files and Open Referral UK."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from bot.directory import DirectoryError, load_file
from bot.directory.importer import EXIT_NOTHING, EXIT_SKIPPED, read_source
from tests.conftest import DATA, SAMPLE_DIRECTORY

REQUIRED_KEYS = {
    "sendiass", "pods", "send_team", "senco", "speech_language_therapy",
    "occupational_therapy", "physiotherapy", "emotional_wellbeing_panel",
    "mental_health_support_teams", "children_disability_team", "strengthening_families",
    "family_connect", "sensory_inclusion", "portage", "educational_psychology", "lsat",
    "virtual_school", "preparation_for_adulthood", "cdc_stepping_stones", "short_breaks",
    "travel_assistance", "housing_adaptations", "healthwatch", "complaints",
    "shout_out_for_send", "local_offer", "contact_helpline", "learning_disability_nursing",
}  # fmt: skip
FICTION = re.compile(r"^(01632 960\d{3}|07700 900\d{3})$")


def test_sample_directory_holds_every_required_entry(sample_directory):
    keys = {e.key for e in sample_directory.entries}
    assert REQUIRED_KEYS <= keys
    assert sample_directory.sample_data is True
    senco = sample_directory.entry("senco")
    assert senco is not None and senco.kind == "role"


def test_sample_directory_uses_only_fictional_contacts(sample_directory):
    for entry in sample_directory.entries:
        assert entry.phone is None or FICTION.match(entry.phone), entry.key
        assert entry.email is None or entry.email.endswith("@example.org"), entry.key
        assert entry.web is None or entry.web.startswith("https://www.example.org/"), entry.key
        assert len(entry.summary.split()) <= 15, entry.key


def test_every_need_is_used_and_every_listed_need_exists(sample_directory):
    need_keys = {n.key for n in sample_directory.needs}
    used = {need for e in sample_directory.entries for need in e.needs}
    assert used == need_keys


def _write_yaml(tmp_path: Path, body: str) -> Path:
    (tmp_path / "needs.yml").write_text(
        "needs:\n  transport:\n    label: Getting to school\n    synonyms: [taxi, school bus]\n"
    )
    path = tmp_path / "directory.yml"
    path.write_text(body)
    return path


def test_every_bad_row_is_named_and_the_good_ones_kept(tmp_path):
    path = _write_yaml(
        tmp_path,
        """
sample_data: true
area: telford_and_wrekin
entries:
  - key: good_one
    name: Good
    summary: Helps children get to school.
    needs: [transport]
    phone: "01632 960001"
  - key: Bad Key
    name: Broken
    summary: Helps children.
    needs: [transport]
  - key: real_number
    name: Real
    summary: A real number in sample data.
    needs: [transport]
    phone: "020 7946 0000"
    email: someone@council.gov.uk
  - key: long_one
    name: Long
    summary: This summary is far too long for easy read because it keeps going on and on and on.
    needs: [transport, flying]
    phone: "01632 960002"
  - key: good_one
    name: Twin
    summary: Same key again.
    needs: [transport]
""",
    )
    result = read_source(path)
    assert [e.key for e in result.directory.entries] == ["good_one", "long_one"]
    assert result.skipped == [
        "row 2 (key 'Bad Key'): 'key' must be lower case letters, digits and _",
        "row 3 (key 'real_number'): phone '020 7946 0000' is not in the ranges reserved for "
        "fiction (01632 960xxx, 07700 900xxx); sample data must not use real numbers",
        "row 3 (key 'real_number'): sample data must use example.org email addresses",
        "row 5 (key 'good_one'): key 'good_one' is used twice (first by row 1 (key "
        "'good_one')); only the first is kept",
    ]
    assert result.left_out == [
        "row 4 (key 'long_one'): unknown need(s) flying left out; add them to needs.yml"
    ]
    # An explicit summary over 15 words is cut at a clause and listed for a person to rewrite.
    long_one = result.directory.entry("long_one")
    assert long_one is not None
    assert long_one.summary == "This summary is far too long for easy read."
    assert long_one.needs == ("transport",)
    assert result.rewrite == [f"row 4 (key 'long_one'): '{long_one.summary}'"]
    assert result.exit_code == EXIT_SKIPPED
    # load_file is for our own files: any problem there is an error.
    with pytest.raises(DirectoryError) as caught:
        load_file(path)
    assert caught.value.problems == result.skipped + result.left_out
    assert str(path) in str(caught.value)


def test_csv_file_from_a_council_officer(tmp_path):
    (tmp_path / "needs.yml").write_text(
        "needs:\n  transport:\n    label: Getting to school\n    synonyms: [taxi]\n"
    )
    path = tmp_path / "directory.csv"
    path.write_text(
        "key,name,kind,summary,needs,age_min,age_max,phone,email,area,web\n"
        "school_taxis,School Taxis,service,Taxis to school for children with SEND.,transport,"
        "4,19,(01632) 960777,taxis@example.org,telford_and_wrekin,www.example.org/taxis\n"
        "bad_row,,service,,transport,nine,5,,,telford_and_wrekin,\n"
    )
    result = read_source(path)
    assert result.skipped == [
        "row 2 (key 'bad_row'): 'name' is missing",
        "row 2 (key 'bad_row'): 'summary' is missing (the assistant needs one line on what "
        "it does)",
        "row 2 (key 'bad_row'): age_min 'nine' is not a whole number",
    ]
    assert result.left_out == []
    (entry,) = result.directory.entries
    assert (entry.key, entry.needs, entry.age_min, entry.age_max) == (
        "school_taxis", ("transport",), 4, 19,
    )  # fmt: skip
    assert (entry.phone, entry.phone_dial) == ("(01632) 960777", "+441632960777")
    assert entry.web == "https://www.example.org/taxis"
    assert result.directory.source == "directory.csv"


def test_open_referral_uk_services_become_entries(tmp_path):
    source = tmp_path / "services.json"
    source.write_text((DATA / "oruk_services.json").read_text())
    (tmp_path / "needs.yml").write_text(SAMPLE_DIRECTORY.with_name("needs.yml").read_text())
    result = read_source(source)
    play, travel = result.directory.entries
    assert play.key == "svc_0001"
    assert play.name == "Riverside Sensory Play"
    assert play.summary == "Sensory play sessions for disabled children under five."
    # A term whose id is a need key means that need; an unknown term is reported, never
    # made into a need of its own.
    assert play.needs == ("short_breaks_activities",)
    assert [(term.name, count) for term, count in result.unmapped] == [("Sensory play", 1)]
    assert result.directory.need("sensory_play") is None
    assert (play.age_min, play.age_max) == (0, 5)
    assert play.phone == "01632 960555"
    assert play.hours == "Tue 9:30am-11:30am"
    assert play.how_to_refer == "Book a place by phone."
    assert play.area == "telford_and_wrekin"
    assert play.organisation == "Riverside Trust"
    assert (travel.age_min, travel.age_max, travel.phone) == (14, 25, "07700 900555")


def test_open_referral_says_what_is_wrong_with_a_document_that_is_not_services(tmp_path):
    source = tmp_path / "services.json"
    for body, problem in (
        ({"content": "nope"}, "'content' should be a list of services, not text"),
        (
            {"hello": 1, "world": 2},
            "expected Open Referral services: a list, a page with 'contents', or one service "
            "with an 'id' and a 'name'; found the keys hello, world",
        ),
        ("just text", "expected Open Referral services: a list, a page with 'contents', or one "
         "service"),
        ([], "the source lists no services"),
    ):  # fmt: skip
        source.write_text(json.dumps(body))
        with pytest.raises(DirectoryError) as caught:
            read_source(source)
        assert caught.value.problems == [problem]
        assert caught.value.exit_code == EXIT_NOTHING
    source.write_text("{not json")
    with pytest.raises(DirectoryError) as caught:
        read_source(source)
    assert caught.value.problems[0].startswith("not valid JSON: ")


def test_last_checked_and_checked_by_are_read_and_checked(tmp_path, sample_directory):
    senco = sample_directory.entry("senco")
    assert (senco.last_checked, senco.checked_by) == (date(2026, 2, 10), "Local Offer officer")
    assert all(e.last_checked and e.checked_by for e in sample_directory.entries)
    (tmp_path / "needs.yml").write_text(
        "needs:\n  transport:\n    label: Getting to school\n    synonyms: [taxi]\n"
    )
    path = tmp_path / "directory.csv"
    path.write_text(
        "key,name,summary,needs,last_checked,checked_by\n"
        "taxis,Taxis,Taxis to school.,transport,2026-03-31,transport manager\n"
        "late,Late,Taxis to school.,transport,31/03/2026,transport manager\n"
        "ahead,Ahead,Taxis to school.,transport,2999-01-01,\n"
    )
    with pytest.raises(DirectoryError) as caught:
        load_file(path)
    assert caught.value.problems == [
        "row 2 (key 'late'): last_checked '31/03/2026' is not a date like 2026-03-31",
        "row 3 (key 'ahead'): last_checked 2999-01-01 is in the future",
    ]
    path.write_text("\n".join(path.read_text().splitlines()[:2]))
    (entry,) = load_file(path).entries
    assert (entry.last_checked, entry.checked_by) == (date(2026, 3, 31), "transport manager")
    services = [{"id": "s1", "name": "Play", "description": "Play for all.",
                 "assured_date": "2026-09-01", "service_taxonomys": [
                     {"taxonomy": {"id": "transport", "name": "Transport"}}]}]  # fmt: skip
    (tmp_path / "services.json").write_text(json.dumps(services))
    (play,) = load_file(tmp_path / "services.json").entries
    assert (play.last_checked, play.checked_by) == (date(2026, 9, 1), None)
