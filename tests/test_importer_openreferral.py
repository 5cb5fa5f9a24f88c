"""Open Referral as councils publish it: files, data packages and a live feed, end to end.

The fixtures in tests/data/openreferral are written in the real shapes (see its README);
the live feed is a fake Open Referral API on loopback, read by the real importer over HTTP.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.directory import Catalog, DirectoryError
from bot.directory.formats import fetch
from bot.directory.importer import (
    EXIT_FETCH_FAILED,
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_SKIPPED,
    ReadOptions,
    read_source,
)
from bot.directory.store import load_directory, load_entry, save_directory
from tests.conftest import DATA
from tests.fakes.oruk_api import FakeOpenReferral, page_services

OPEN_REFERRAL = DATA / "openreferral"
CHATTERBOX = "b3a1f2c4_0001_4c1e_9a00_000000000001"
COUNSELLING = "b3a1f2c4_0002_4c1e_9a00_000000000002"
CHILDLINE = "b3a1f2c4_0004_4c1e_9a00_000000000004"
SUNFLOWER = "b3a1f2c4_0006_4c1e_9a00_000000000006"


def _pages() -> list[dict]:
    return page_services(
        (OPEN_REFERRAL / "hsds3_page1.json").read_text(),
        (OPEN_REFERRAL / "hsds3_page2.json").read_text(),
    )


def test_hsds3_page_reads_every_field():
    result = read_source(OPEN_REFERRAL / "hsds3_page1.json")
    chatterbox = result.directory.entry(CHATTERBOX)
    assert chatterbox is not None
    assert chatterbox.name == "Chatterbox Speech Drop-in"
    # The first sentence has 23 words: cut at a clause, and listed for a person to rewrite.
    assert chatterbox.summary == (
        "Friendly weekly drop-in sessions where speech and language therapists give parents "
        "advice and simple activities."
    )
    assert result.rewrite == [
        f"service 1 (id '{chatterbox.source_id}', 'Chatterbox Speech Drop-in'): "
        f"'{chatterbox.summary}'"
    ]
    assert chatterbox.description.startswith("Friendly weekly drop-in sessions where")
    # Mapped terms are needs; age groups and data-source tags never are.
    assert chatterbox.needs == ("speech_language",)
    assert chatterbox.taxonomy == ("Speech, language and communication needs",)
    assert (chatterbox.age_min, chatterbox.age_max) == (0, 25)  # maximum_age 0: no limit
    assert (chatterbox.phone, chatterbox.phone_dial) == ("(01632) 960201", "+441632960201")
    # Phones on the service, its contacts, its location and its organisation are all kept.
    assert chatterbox.more_phones == (
        "Text: 07700 900201", "01632 960208", "01632 960209", "+44 (0)1632 960200",
    )  # fmt: skip
    assert chatterbox.web == "https://www.example.org/chatterbox"  # from www.example.org/...
    assert chatterbox.hours == "Mon-Fri 9am-5pm; Sat 10am-1pm"
    assert chatterbox.area == "telford_and_wrekin"
    assert chatterbox.organisation == "Wrekin Children's Therapies"
    assert chatterbox.address == "Brookside Family Hub, 1 Example Way, Telford, TF0 0AA"
    assert chatterbox.accessibility == "Step-free entrance and a changing places toilet."
    assert chatterbox.languages == ("English", "Polish", "Punjabi")
    assert chatterbox.cost == "Free (Everyone)"
    assert chatterbox.eligibility == "Families with children who are not yet at school."
    assert chatterbox.how_to_refer == "Just come along, or call to ask a question."
    counselling = result.directory.entry(COUNSELLING)
    assert counselling is not None
    # A quoted number with a separate extension; ISO date-times read as clock times.
    assert (counselling.phone, counselling.phone_dial) == (
        "+44 1632 960202 ext 100", "+441632960202",
    )  # fmt: skip
    assert counselling.hours == "Mon, Wed 4pm-7:30pm"
    assert counselling.cost == "Free (Under 18s); £5 per session (18 to 25)"
    assert counselling.area == ""  # a sentence, not a place name
    assert counselling.needs == ()
    assert result.without_need == [COUNSELLING]
    assert [(t.label, n) for t, n in result.unmapped] == [
        ("'Talking therapies', vocabulary 'LGA Service Types', id 'lga-st-17'", 1)
    ]
    assert result.not_imported == [
        "service 3 (id 'b3a1f2c4-0003-4c1e-9a00-000000000003', 'Little Acorns Playgroup'): "
        "status is 'inactive'"
    ]
    # Page 1 of 2 on its own: imported, but never complete enough to --replace with.
    assert result.complete is False
    assert result.exit_code == EXIT_OK


def test_bad_rows_are_reported_with_the_sources_field_names_and_the_rest_kept():
    result = read_source(OPEN_REFERRAL / "hsds3_page2.json")
    assert [e.key for e in result.directory.entries] == [CHILDLINE, SUNFLOWER]
    sunflower = "service 3 (id 'b3a1f2c4-0006-4c1e-9a00-000000000006', 'Sunflower Stay and Play')"
    assert result.skipped == [
        "service 2 (id 'b3a1f2c4-0005-4c1e-9a00-000000000005', 'Parent Support Line'): "
        "description is missing (the assistant needs one line on what it does)",
        "service 4 (id 'b3a1f2c4-0004-4c1e-9a00-000000000004', 'Childline (again)'): id "
        "'b3a1f2c4-0004-4c1e-9a00-000000000004' is used twice (first by service 1 (id "
        "'b3a1f2c4-0004-4c1e-9a00-000000000004', 'Childline')); only the first is kept",
    ]
    assert result.left_out == [
        f"{sunflower}: schedules should be a list, not text; left out",
        f"{sunflower}: minimum_age 'three' is not a whole number; left out",
        f"{sunflower}: phones[0].number '12345' is not a UK number (it should start with 0 or "
        "+44); left out",
        f"{sunflower}: email 'sunflower@' is not an email address; left out",
        f"{sunflower}: url 'not a web address' is not a web address; left out",
    ]
    kept = result.directory.entry(SUNFLOWER)
    assert kept is not None
    # One phone object where a list was expected is read as a list of one (and refused);
    # the contact's number with an "x" extension is the one kept.
    assert (kept.phone, kept.phone_dial) == ("01632 960206 x 21", "+441632960206")
    assert (kept.age_min, kept.age_max, kept.web, kept.email) == (0, 8, None, None)
    assert kept.needs == ("short_breaks_activities", "respite")
    childline = result.directory.entry(CHILDLINE)
    assert childline is not None
    assert (childline.phone, childline.phone_dial) == ("0800 1111", "+448001111")
    assert childline.hours == "Open every day, day and night."
    assert result.exit_code == EXIT_SKIPPED


def test_one_service_object_with_an_explicit_summary():
    result = read_source(OPEN_REFERRAL / "hsds3_service.json")
    (entry,) = result.directory.entries
    assert entry.summary == "Sensory play sessions for disabled children under five."
    assert result.rewrite == []  # the source's own summary wins over its long description
    assert entry.description.startswith("Sensory play sessions in our sensory room")
    assert "<" not in entry.description
    assert entry.hours == "Tue 9:30am-11:30am; 1st Sat of the month 10am-12pm"
    assert entry.more_phones == ("07700 900555",)  # the fax number is not a way to talk
    assert entry.cost == "£2.5 per session (Per family)"
    assert entry.languages == ("English", "British Sign Language")
    assert entry.accessibility == "Hoist and changing bench."


def test_oruk_1x_page():
    result = read_source(OPEN_REFERRAL / "oruk1_services.json")
    club, buddies, sign = result.directory.entries
    assert club.key == "oruk1_0001"
    assert (club.age_min, club.age_max) == (5, 18)  # across both eligibility bands
    assert club.hours == "Sat 10am-2pm"  # weekday 6 is Saturday (ISO 8601)
    assert club.needs == ("short_breaks_activities", "respite")
    assert club.eligibility == "child; teen"
    assert club.address == "Oakengates Leisure Centre, 4 Example Road, Oakengates, TF0 0DD"
    assert club.accessibility == "Wheelchair accessible toilet"
    assert club.languages == ("English", "British Sign Language")
    assert club.taxonomy == ("Breaks and respite", "Play schemes")  # not "5 to 18 years"
    assert buddies.hours == "Mon-Fri 9am-4:30pm"
    assert (buddies.age_min, buddies.age_max) == (14, 25)
    assert (buddies.phone, buddies.phone_dial) == ("01632 960302 ext 12", "+441632960302")
    assert buddies.needs == ("transport",)  # the term's id is a need key
    # An object where a list is expected is read as a list of one; a bad weekday is
    # left out and the good schedule kept.
    assert sign.needs == ("hearing_vision",)
    assert sign.hours == "Thu 10am-11am"
    assert result.left_out == [
        "service 4 (id 'oruk1-0004', 'Sign and Sing'): schedules: weekday 'Funday' is not a "
        "day; left out"
    ]
    assert result.not_imported == [
        "service 3 (id 'oruk1-0003', 'Holiday Swimming'): status is 'temporarily closed'"
    ]


def test_dfe_family_hubs_camel_case_service():
    result = read_source(OPEN_REFERRAL / "dfe_family_hubs_service.json")
    (entry,) = result.directory.entries
    assert entry.key == "4021"
    assert entry.hours == "Thu 9:30am-11am"
    assert (entry.age_min, entry.age_max) == (0, 1)
    assert entry.needs == ("early_years_learning",)
    assert entry.more_phones == ("Text: 07700 900401",)
    assert entry.area == "telford_and_wrekin"
    assert entry.address == "Hadley Family Hub, 5 Example Avenue, Hadley, TF0 0EE"


def test_hsds_1x_csv_data_package():
    result = read_source(OPEN_REFERRAL / "hsds1_package" / "datapackage.json")
    carers, toys = result.directory.entries
    assert carers.name == "Young Carers Project"
    assert carers.hours == "Mon-Thu 9am-5pm; Fri 9am-4pm"
    assert (carers.age_min, carers.age_max) == (8, 18)
    assert carers.more_phones == ("Text: 07700 900501",)  # phones.csv by contact_id
    assert carers.languages == ("English", "Polish")
    assert toys.web == "https://www.example.org/toy-library"
    assert toys.phone == "+44 (0)1632 960503"  # the organisation's, in phones.csv
    assert toys.address == "Southwater Library, 6 Example Square, Telford, TF0 0FF"
    assert toys.hours == "Sat 10am-4pm"  # the location's schedule
    assert toys.needs == ("daily_living_sensory",)  # taxonomy_ids on services.csv
    assert result.skipped == [
        "services.csv row 2 (id 'd1e2f3a4-0002-4000-8000-000000000502'): name is missing"
    ]
    assert result.left_out == [
        "services.csv row 3 (id 'd1e2f3a4-0003-4000-8000-000000000503', 'Sensory Toy Library'): "
        "phones.csv row 4 number '(223) 346 12361' is not a UK number (it should start with 0 "
        "or +44); left out"
    ]
    assert [n for _, n in result.unmapped] == [1]
    # The folder and the zip read the same way.
    assert read_source(OPEN_REFERRAL / "hsds1_package").directory == result.directory


def test_hsds_1x_package_as_a_zip(tmp_path: Path):
    import zipfile

    package = tmp_path / "directory.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for file in (OPEN_REFERRAL / "hsds1_package").iterdir():
            archive.write(file, f"export/{file.name}")
    result = read_source(package)
    assert [e.name for e in result.directory.entries] == [
        "Young Carers Project", "Sensory Toy Library",
    ]  # fmt: skip


def test_hsds_3_csv_tables():
    result = read_source(OPEN_REFERRAL / "hsds3_tables" / "services.csv")
    dyslexia, wheels = result.directory.entries
    assert dyslexia.needs == ("learning_difficulties",)  # attributes.csv -> taxonomy_terms.csv
    assert dyslexia.taxonomy == ("Learning difficulties and disabilities",)  # not "5 to 16"
    assert dyslexia.hours == "Wed 3:30pm-5pm (every 2 weeks)"
    assert dyslexia.summary == (
        "Advice for parents and school staff on reading and spelling difficulties."
    )
    assert wheels.hours == "Sat, Sun 9am-12pm"  # schedules.csv by service_at_location_id
    assert wheels.phone == "01632 960602"  # the location's, as the service's own is wrong
    assert wheels.accessibility == "Accessible changing room and hoist."
    assert wheels.cost == "£3 a session (Per child)"
    assert result.left_out == [
        "services.csv row 2 (id 'e5f6a7b8-0002-4000-8000-000000002002', 'Wheelchair Skills "
        "Club'): phones.csv row 2 number '0161 496 00' has 9 digits; UK numbers have 10 or 11; "
        "left out"
    ]


def test_a_taxonomy_map_file_turns_terms_into_needs(tmp_path: Path):
    mapping = tmp_path / "map.yml"
    mapping.write_text(
        "terms:\n"
        "  - {vocabulary: LGA Service Types, id: lga-st-17, needs: [mental_health]}\n"
        "ignore:\n  vocabularies: [Age group]\n"
    )
    result = read_source(OPEN_REFERRAL / "hsds3_page1.json", ReadOptions(taxonomy_map=mapping))
    assert result.directory.entry(COUNSELLING).needs == ("mental_health",)
    # Without our default map, the Family Hubs term is unmapped; the data-source tag
    # matches no need key or label, so it is listed too (this map does not ignore it).
    assert [t.name for t, _ in result.unmapped] == [
        "Source: Family Information Service", "Speech, language and communication needs",
    ]  # fmt: skip
    bad = tmp_path / "bad.yml"
    bad.write_text("terms:\n  - {name: Foo, needs: [flying]}\n")
    with pytest.raises(DirectoryError) as caught:
        read_source(OPEN_REFERRAL / "hsds3_page1.json", ReadOptions(taxonomy_map=bad))
    assert "terms[1]: unknown need(s) flying; see needs.yml" in caught.value.problems[0]


def test_counselling_finds_community_counselling_by_its_own_name(sample_directory):
    """A service whose taxonomy maps to no need is still found by its own words."""
    from bot.directory.classifier import load_examples
    from bot.directory.search import default_examples_path

    council = read_source(OPEN_REFERRAL / "hsds3_page1.json").directory
    combined = sample_directory.__class__(
        needs=sample_directory.needs, entries=sample_directory.entries + council.entries
    )
    catalog = Catalog(combined, examples=load_examples(default_examples_path()))
    found = [m.entry.key for m in catalog.search("counselling", age=15)]
    assert COUNSELLING in found
    assert [m.entry.key for m in catalog.search("community counselling")][0] == COUNSELLING


# --- the live feed -------------------------------------------------------------------


@pytest.fixture
def app_db(engine: Engine, monkeypatch) -> Engine:
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    monkeypatch.setattr(fetch, "RETRY_PAUSE", 0.0)
    return engine


def test_live_feed_is_read_page_by_page_and_replaces_only_its_own_source(
    app_db, sample_directory, capsys
):
    save_directory(app_db, sample_directory)
    with FakeOpenReferral(_pages(), size=2) as api:
        code = main(["directory", "import", api.services_url, "--source", "council", "--replace"])
        assert api.requests == [f"/services?page={n}" for n in (1, 2, 3, 4)]
    out = capsys.readouterr().out
    assert code == EXIT_SKIPPED
    assert "Read 4 page(s), 7 services." in out
    assert "Imported " + api.services_url + " as source 'council': 4 added" in out
    assert "Skipped rows: not in the directory (2):" in out
    term = "'Talking therapies', vocabulary 'LGA Service Types', id 'lga-st-17'"
    assert f"{term}: 1 service(s)" in out
    assert "Exit code 1: some rows were skipped" in out
    keys = {e.key for e in load_directory(app_db).entries}
    assert {CHATTERBOX, COUNSELLING, CHILDLINE, SUNFLOWER} <= keys
    assert {e.key for e in sample_directory.entries} <= keys  # another source: untouched

    # The council drops a service: --replace removes it, and only it.
    fewer = [s for s in _pages() if s["name"] != "Sunflower Stay and Play"]
    with FakeOpenReferral(fewer, style="oruk1", size=3) as api:
        code = main(["directory", "import", api.services_url, "--source", "council", "--replace"])
    out = capsys.readouterr().out
    assert "0 added, 0 updated, 3 unchanged, 1 removed" in out
    assert load_entry(app_db, SUNFLOWER) is None
    assert load_entry(app_db, CHATTERBOX) is not None


def test_a_page_failing_part_way_changes_nothing(app_db, sample_directory, capsys):
    save_directory(app_db, sample_directory)
    with FakeOpenReferral(_pages(), size=2) as api:
        assert main(["directory", "import", api.services_url, "--source", "council"]) == 1
        before = {e.key for e in load_directory(app_db).entries}
        api.fail(page=3, times=5, status=500)
        code = main(["directory", "import", api.services_url, "--source", "council", "--replace"])
        # Page 3 was asked for three times (two retries), then the import gave up.
        assert api.requests[-3:] == ["/services?page=3"] * 3
    err = capsys.readouterr().err
    assert code == EXIT_FETCH_FAILED
    assert f"page 3 of 4 ({api.services_url}?page=3): the server answered HTTP 500" in err
    assert "Nothing was imported." in err
    assert {e.key for e in load_directory(app_db).entries} == before


def test_a_page_that_fails_once_is_tried_again(app_db, capsys):
    with FakeOpenReferral(_pages(), size=3) as api:
        api.fail(page=2, times=1, status=503)
        code = main(["directory", "import", api.services_url, "--source", "council"])
        assert api.requests == ["/services?page=1", "/services?page=2", "/services?page=2",
                                "/services?page=3"]  # fmt: skip
    assert code == EXIT_SKIPPED  # the feed's own bad rows, not the network
    assert load_entry(app_db, CHILDLINE) is not None


def test_timeouts_and_answers_that_are_not_json_fail_kindly():
    with FakeOpenReferral(_pages(), size=3) as api:
        api.fail(page=1, times=2, status=0, delay=1.0)
        with pytest.raises(fetch.FetchError) as caught:
            fetch.fetch_services(api.services_url, timeout=0.3, retries=1, pause=0)
        assert "page 1 (" in str(caught.value) and "no answer in time" in str(caught.value)
        api.fail(page=2, times=3, body=b"<html>Service unavailable</html>")
        with pytest.raises(fetch.FetchError) as caught:
            fetch.fetch_services(api.services_url, retries=2, pause=0)
        assert "page 2 of 3" in str(caught.value)
        assert "the answer is not JSON" in str(caught.value)
    with pytest.raises(DirectoryError) as error:
        read_source("http://127.0.0.1:9/services")  # nothing listens on the discard port
    assert error.value.exit_code == EXIT_FETCH_FAILED
    assert "could not connect" in error.value.problems[0]


def test_replace_with_one_page_of_a_paged_file_removes_nothing(app_db, capsys, tmp_path):
    assert main(["directory", "import", str(OPEN_REFERRAL / "hsds3_page2.json"),
                 "--source", "council"]) == EXIT_SKIPPED  # fmt: skip
    code = main(["directory", "import", str(OPEN_REFERRAL / "hsds3_page1.json"),
                 "--source", "council", "--replace"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "--replace ignored: not every page of the source was read" in out
    assert load_entry(app_db, CHILDLINE) is not None


def test_check_changes_nothing_and_malformed_files_give_a_message(app_db, tmp_path, capsys):
    assert main(["directory", "import", str(OPEN_REFERRAL / "oruk1_services.json"),
                 "--check"]) == EXIT_SKIPPED  # fmt: skip
    assert load_directory(app_db).entries == ()
    broken = tmp_path / "services.json"
    broken.write_text(json.dumps({"contents": [{"id": "1", "name": "X", "phones": 7}]}))
    code = main(["directory", "import", str(broken)])
    captured = capsys.readouterr()
    assert code == EXIT_NOTHING
    assert "Traceback" not in captured.out + captured.err
    assert "description is missing" in captured.out
    assert "phones should be a list, not int" in captured.out
