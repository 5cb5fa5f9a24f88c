"""What the published Who's Who says: grouping, easy-read lines, checks, the phone guide's
keys, families' "this is wrong" reports and the report for the Local Offer team."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from bot.directory.store import save_directory
from bot.publish import corrections, phone
from bot.publish.audio import guide_parts, section_text
from bot.publish.content import (
    ages,
    build_guide,
    checked_sentence,
    contacts,
    emergency_contacts,
    is_stale,
)
from bot.publish.report import report_text, stale_entries, wrong_reports

TODAY = date(2026, 12, 1)
STALE = ["virtual_school", "senco", "physiotherapy", "healthwatch", "housing_adaptations"]


@pytest.fixture(scope="module")
def guide(sample_directory):
    return build_guide(sample_directory, made=TODAY, updated=date(2026, 11, 30))


def test_every_entry_is_written_out_once_under_its_best_need(guide, sample_directory):
    written = [e.key for s in guide.sections for e in s.entries]
    assert sorted(written) == sorted(e.key for e in sample_directory.entries)
    for section in guide.sections:
        assert all(e.needs[0] == section.need.key for e in section.entries)
        assert all(section.need.key in e.needs[1:] for e in section.also)
    labels = [s.need.label for s in guide.sections]
    assert labels == sorted(labels, key=str.lower)
    respite = next(s for s in guide.sections if s.need.key == "respite")
    assert (respite.entries, [e.key for e in respite.also]) == (
        (), ["children_disability_team", "short_breaks"],
    )  # fmt: skip
    assert guide.area_name == "Telford and Wrekin"


def test_entry_lines_ages_contacts_and_checks(guide, sample_directory):
    shout = sample_directory.entry("shout_out_for_send")
    assert [c.label for c in contacts(shout)][:2] == ["Phone", "Text"]  # a mobile: text too
    sendiass = sample_directory.entry("sendiass")
    assert [(c.label, c.text, c.href) for c in contacts(sendiass)] == [
        ("Phone", "01632 960101", "tel:01632960101"),
        ("Email", "sendiass@example.org", "mailto:sendiass@example.org"),
        ("Website", "www.example.org/sendiass", "https://www.example.org/sendiass"),
        ("Open", "Monday to Friday, 9am to 5pm", None),
    ]
    assert ages(sendiass) == "From birth to age 25"
    assert ages(sample_directory.entry("senco")) == "Ages 4 to 18"
    assert checked_sentence(sendiass, TODAY) == (
        "Checked on 14 October 2026, by the service manager."
    )
    assert checked_sentence(sample_directory.entry("pods"), TODAY) == (
        "Checked on 3 November 2026, by a parent carer from PODS."
    )
    assert checked_sentence(sample_directory.entry("senco"), TODAY).endswith(
        "That was over 6 months ago. Please check before you go."
    )
    assert [e.key for e in sample_directory.entries if is_stale(e, TODAY)] == [
        "senco", "physiotherapy", "virtual_school", "housing_adaptations", "healthwatch",
    ]  # fmt: skip
    assert is_stale(replace(sendiass, last_checked=None), TODAY)


def test_emergency_contacts_name_the_national_lines_and_the_front_door(guide):
    lines = [c.sentence for c in emergency_contacts(guide.front_door)]
    assert lines == [
        "If someone is in danger right now, call 999.",
        "Need a doctor or nurse fast? Call NHS 111. It is free.",
        "Children and young people can call Childline free on 0800 1111.",
        "Anyone can call Samaritans free on 116 123, day or night.",
        "Worried about a child's safety? Call Family Connect on 01632 960111 (sample number).",
    ]


def test_audio_guide_words_are_short_sentences_with_every_helper(guide):
    parts = guide_parts(guide)
    assert len(parts) == len(guide.sections) + 1
    assert (parts[0].slug, parts[1].slug) == (
        "00-introduction-and-emergency-numbers", "01-a-break-from-caring",
    )  # fmt: skip
    assert "If someone is in danger right now, call 999." in parts[0].text
    respite = guide.sections[0]
    text = section_text(respite, sample_data=True)
    assert text.splitlines()[:4] == [
        "A break from caring.", "2 services can help.", "Number 1.", "Children's Disability Team.",
    ]  # fmt: skip
    assert "Call 01632 960109. That is 01632 960109." in text
    assert text.endswith("These contacts are sample data. They are made up for testing.")
    spoken = parts[1].spoken
    assert "0 1 6 3 2, 9 6 0, 1 0 9" in spoken and "01632" not in spoken
    for part in parts:
        for sentence in re.split(r"(?<=[.!?])\s+", part.text.replace("\n", " ")):
            assert len(sentence.split()) <= 15, sentence


def test_the_phone_guide_keys():
    assert phone.handles("ask", "8") and phone.handles("answered", "8")
    assert not phone.handles("menu", "8")  # in the topic menu, 8 is a topic
    assert phone.handles("guide-3", "5")
    assert phone.step("ask", "8", 10) == 0
    assert [phone.step("guide-3", key, 10) for key in "12905"] == [4, 2, 3, None, 3]
    assert phone.step("guide-9", "1", 10) is None  # after the last topic, 1 leaves
    assert phone.step("guide-0", "2", 10) == 0
    assert phone.keys_after(0, 10).splitlines() == [phone.NEXT, phone.AGAIN, phone.STOP]
    assert phone.keys_after(9, 10).splitlines() == [
        phone.LAST, phone.BACK, phone.AGAIN, phone.STOP,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "shown", "key", "choices"),
    [
        ("the number for pods is wrong", [], "pods", []),
        ("the details for portage are out of date", ["sendiass"], "portage", []),
        ("01632 960104 is not their number any more", [], "speech_language_therapy", []),
        ("the SENDIASS email bounced", [], "sendiass", []),
        ("that number is wrong", ["speech_language_therapy"], "speech_language_therapy", []),
        ("that number is wrong", ["sendiass", "pods"], None, ["sendiass", "pods"]),
        ("that's out of date", [], None, []),
    ],
)
def test_which_entry_a_report_is_about(sample_directory, text, shown, key, choices):
    found = corrections.resolve(sample_directory, text, shown)
    assert (found.entry.key if found.entry else None) == key
    assert [e.key for e in found.choices] == choices


def test_what_is_wrong_and_the_reply(sample_directory):
    assert corrections.what_is_wrong("the number for pods is wrong") == ("phone", "phone number")
    assert corrections.what_is_wrong("my email bounced") == ("email", "email address")
    assert corrections.what_is_wrong("the link is broken") == ("web", "website")
    assert corrections.what_is_wrong("they close at 3 not 5") == ("details", "details")
    assert corrections.what_is_wrong("it closed down last year")[0] == "closed"
    pods = sample_directory.entry("pods")
    assert corrections.thanks(pods, "the number for pods is wrong").splitlines() == [
        "Thank you for telling us.",
        "I have passed it to the Local Offer team.",
        "They will check the phone number for PODS Parent Carer Forum.",
        "Until then, you could try this. Email pods@example.org.",
        "Sample data: made-up contacts.",
    ]
    assert corrections.thanks(None, "out of date").splitlines()[-1] == (
        "They check every service's details."
    )


def test_report_lists_old_checks_and_what_families_said(engine, sample_directory):
    save_directory(engine, sample_directory)
    pods = sample_directory.entry("pods")
    corrections.record_report(engine, "sms", "sms-abc", "m1", pods, "the number for pods is wrong")
    corrections.record_report(engine, "sms", "sms-abc", "m1", pods, "the number for pods is wrong")
    corrections.record_report(engine, "telegram", "tg-1", "m2", pods, "pods email bounced")
    corrections.record_report(engine, "rest", "web-1", "m3", None, "it is all out of date")
    assert [e.key for e in stale_entries(sample_directory, TODAY)] == STALE
    wrong = wrong_reports(engine, sample_directory)
    assert [(r.key, r.name, r.count, r.said) for r in wrong] == [
        ("pods", "PODS Parent Carer Forum", 2, "pods email bounced"),
        ("general", "no service named", 1, "it is all out of date"),
    ]
    text = report_text(sample_directory, TODAY, ["index.html"], wrong)
    lines = text.splitlines()
    start = lines.index("For the Local Offer team: not checked for 6 months (5):")
    assert lines[start + 1] == (
        "  virtual_school               Virtual School: last checked 19 January 2026, "
        "by the Local Offer officer, 316 days ago"
    )
    assert [line.split()[0] for line in lines[start + 1 : start + 6]] == STALE
    assert "  pods                         PODS Parent Carer Forum: 2 reports, latest" in text
    # Checked again after the reports: they no longer count.
    rechecked = replace(
        sample_directory,
        entries=tuple(
            replace(e, last_checked=date(2999, 1, 1)) if e.key == "pods" else e
            for e in sample_directory.entries
        ),
    )
    assert [r.key for r in wrong_reports(engine, rechecked)] == ["general"]


def test_the_live_site_reads_the_directory_again_but_trains_search_only_on_change(
    loaded_engine, sample_directory, tmp_path
):
    from bot.directory.protected import protected_keys
    from bot.publish.site import Site

    now = [0.0]
    site = Site(loaded_engine, tmp_path, today=lambda: TODAY, clock=lambda: now[0])
    guide, catalog = site.guide()
    assert [e.key for e in site.search("school taxi")] == ["travel_assistance"]
    assert site.search("   ") == [] and site.search("zzzz qqqq") == []
    now[0] = 61.0
    assert site.guide()[1] is catalog  # nothing changed: the same trained index
    keep = protected_keys()  # an import may not remove these: drop one it may
    dropped = next(e for e in reversed(sample_directory.entries) if e.key not in keep)
    fewer = replace(
        sample_directory, entries=tuple(e for e in sample_directory.entries if e is not dropped)
    )
    save_directory(loaded_engine, fewer, replace=True)
    assert site.guide()[1] is catalog  # within the minute: still the old one
    now[0] = 122.0
    guide, rebuilt = site.guide()
    assert rebuilt is not catalog and len(guide.entries) == len(sample_directory.entries) - 1
    (tmp_path / "whos-who.pdf").write_bytes(b"%PDF-")
    (tmp_path / "report.txt").write_text("private")
    assert site.file("whos-who.pdf") == (tmp_path / "whos-who.pdf", "application/pdf")
    assert site.file("report.txt") is None and site.file("../app.db") is None
