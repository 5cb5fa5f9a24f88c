"""Importing the Who's Who: the sample data, officer YAML/CSV files and Open Referral UK."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from bot.directory import DirectoryError, load_file
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


def test_validation_names_every_bad_row(tmp_path):
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
    summary: This summary is far too long for easy read because it keeps going on and on and on.
    needs: [flying]
    phone: "020 7946 0000"
    email: someone@council.gov.uk
  - key: good_one
    name: Twin
    summary: Same key again.
    needs: [transport]
""",
    )
    with pytest.raises(DirectoryError) as caught:
        load_file(path)
    problems = caught.value.problems
    assert problems == [
        "row 2 (key 'Bad Key'): 'key' must be lower case letters, digits and _",
        "row 2 (key 'Bad Key'): 'summary' has 18 words; easy-read allows 15",
        "row 2 (key 'Bad Key'): unknown need(s) flying; add them to needs.yml",
        "row 2 (key 'Bad Key'): phone '020 7946 0000' is not in the ranges reserved for "
        "fiction (01632 960xxx, 07700 900xxx); sample data must not use real numbers",
        "row 2 (key 'Bad Key'): sample data must use example.org email addresses",
        "row 3 (key 'good_one'): key is used twice",
    ]
    assert str(path) in str(caught.value)


def test_csv_file_from_a_council_officer(tmp_path):
    (tmp_path / "needs.yml").write_text(
        "needs:\n  transport:\n    label: Getting to school\n    synonyms: [taxi]\n"
    )
    path = tmp_path / "directory.csv"
    path.write_text(
        "key,name,kind,summary,needs,age_min,age_max,phone,email,area\n"
        "school_taxis,School Taxis,service,Taxis to school for children with SEND.,transport,"
        "4,19,01632 960777,taxis@example.org,telford_and_wrekin\n"
        "bad_row,,service,,transport,nine,5,,,telford_and_wrekin\n"
    )
    with pytest.raises(DirectoryError) as caught:
        load_file(path)
    assert caught.value.problems == [
        "row 2 (key 'bad_row'): 'name' is missing",
        "row 2 (key 'bad_row'): 'summary' is missing",
        "row 2 (key 'bad_row'): age_min 'nine' is not a whole number",
    ]
    path.write_text(path.read_text().splitlines()[0] + "\n" + path.read_text().splitlines()[1])
    directory = load_file(path)
    (entry,) = directory.entries
    assert (entry.key, entry.needs, entry.age_min, entry.age_max, entry.phone) == (
        "school_taxis", ("transport",), 4, 19, "01632 960777",
    )  # fmt: skip


def test_open_referral_uk_services_become_entries(tmp_path):
    source = tmp_path / "services.json"
    source.write_text((DATA / "oruk_services.json").read_text())
    (tmp_path / "needs.yml").write_text(SAMPLE_DIRECTORY.with_name("needs.yml").read_text())
    directory = load_file(source)
    play, travel = directory.entries
    assert play.key == "svc_0001"
    assert play.name == "Riverside Sensory Play"
    assert play.summary == "Sensory play sessions for disabled children under five."
    assert play.needs == ("short_breaks_activities", "sensory_play")
    assert (play.age_min, play.age_max) == (0, 5)
    assert play.phone == "01632 960555"
    assert play.hours == "Tuesday 09:30 to 11:30"
    assert play.how_to_refer == "Book a place by phone."
    assert play.area == "telford_and_wrekin"
    assert (travel.age_min, travel.age_max, travel.phone) == (14, 25, "07700 900555")
    assert directory.need("sensory_play") is not None


def test_open_referral_rejects_a_non_list(tmp_path):
    source = tmp_path / "services.json"
    source.write_text(json.dumps({"content": "nope"}))
    with pytest.raises(DirectoryError) as caught:
        load_file(source)
    assert caught.value.problems == ["expected a list of Open Referral UK services"]


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
