"""Speech-friendly text: pure functions, exact outcomes."""

from __future__ import annotations

import pytest

from bot.directory.render import signpost_text
from bot.safety import emergency_text
from bot.speech.audio import audio_kind, mp3_frames
from bot.speech.hints import speech_hints
from bot.speech.phrases import PROMPTS, VOICE_MENU_TOPICS, keypad_menu_text, option_line
from bot.speech.text import segments, speak_phone, speech_segments, speech_text
from tests.fakes.gtts_api import FRAME, silent_mp3


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("01632 960122", "0 1 6 3 2, 9 6 0, 1 2 2"),
        ("01632960122", "0 1 6 3 2, 9 6 0, 1 2 2"),
        ("07700 900125", "0 7 7 0 0, 9 0 0, 1 2 5"),
        ("020 7946 0000", "0 2 0, 7 9 4 6, 0 0 0 0"),
        ("02079460000", "0 2 0, 7 9 4 6, 0 0 0 0"),
        ("0121 496 0000", "0 1 2 1, 4 9 6, 0 0 0 0"),
        ("0800 1111", "0 8 0 0, 1 1 1 1"),
        ("+44 7700 900123", "plus 4 4, 7 7 0 0, 9 0 0, 1 2 3"),
        ("116 123", "1 1 6, 1 2 3"),
        ("999", "9 9 9"),
    ],
)
def test_phone_numbers_are_read_in_digit_groups(written, spoken):
    assert speak_phone(written) == spoken
    assert speech_text(f"Call {written}.") == f"Call {spoken}."


def test_other_numbers_are_left_alone():
    assert speech_text("We keep it for 180 days. Ages 0-25, 9am to 5pm.") == (
        "We keep it for 180 days. Ages 0 to 25, 9am to 5pm."
    )


def test_web_addresses_are_not_spelled_out():
    assert speech_text("Visit https://www.example.org/send-team.") == "Visit the website."
    assert speech_text("See www.example.org/pods (sample).") == "See the website (sample)."
    assert speech_text("Email send.team@example.org.") == (
        "Email send dot team at example dot org."
    )


def test_senco_and_ehcp_are_explained_the_first_time_only():
    assert speech_text("Ask the SENCo. The SENCo knows.") == (
        "Ask the special educational needs coordinator (SENCo). The SENCo knows."
    )
    assert speech_text("Ask for an EHCP. The EHCP lasts.") == (
        "Ask for an education, health and care plan. The EHCP lasts."
    )
    assert speech_text("Advice about EHCPs.") == "Advice about education, health and care plans."


def test_an_acronym_already_in_brackets_is_not_explained_again():
    text = "The teacher who leads special needs help in your child's school (SENCo)."
    assert speech_text(text) == text
    assert speech_text("A plan (EHCP). Then the EHCP.") == "A plan (EHCP). Then the EHCP."


def test_ampersands_menus_list_numbers_and_emoji():
    text = "These can help:\n1. Telford & Wrekin IASS: Advice \U0001f44d\nReply 1 More, 2 Talk."
    assert speech_text(text) == "These can help:\nTelford and Wrekin IASS: Advice"
    assert speech_text("Reply 1 More", drop_menus=False) == "Reply 1 More"


def test_segments_split_sentences_and_short_labels():
    assert segments("These can help:\nHousing Adaptations: Money for a wet room. Call 0 1.") == [
        "These can help.",
        "Housing Adaptations.",
        "Money for a wet room.",
        "Call 0 1.",
    ]
    assert segments("Sample data: these are made up") == ["Sample data.", "These are made up."]


def test_a_summary_is_the_same_piece_alone_and_in_a_reply(sample_directory):
    entry = sample_directory.entry("housing_adaptations")
    reply = speech_segments(signpost_text([entry, sample_directory.entry("occupational_therapy")]))
    assert speech_segments(entry.summary)[0] in reply
    assert reply[:4] == [
        "These can help.",
        "Housing Adaptations (Disabled Facilities Grant).",
        "Money and help to change your home, like wet rooms and ramps.",
        "Call 0 1 6 3 2, 9 6 0, 1 2 2.",
    ]


def test_the_emergency_reply_reads_each_number_clearly():
    assert speech_segments(emergency_text(None)) == [
        "I am worried about what you said.",
        "You can get help now.",
        "If someone is in danger right now, call 9 9 9.",
        "Children and young people can call Childline free on 0 8 0 0, 1 1 1 1.",
        "Anyone can call Samaritans free on 1 1 6, 1 2 3, day or night.",
        "You can keep talking to me too.",
    ]


def test_the_phone_lines_own_words_are_easy_read():
    for prompt in PROMPTS:
        for sentence in segments(prompt):
            assert len(sentence.split()) <= 15, sentence


def test_the_keypad_menu_names_each_topic_with_its_key(sample_directory):
    labels = [sample_directory.need(key).label for key in VOICE_MENU_TOPICS]
    lines = keypad_menu_text(labels).splitlines()
    assert lines[1] == "Press 1 for education, health and care plans."
    assert lines[8] == "Press 8 for growing up and adult life."
    assert option_line(3, "ADHD assessment") == "Press 3 for ADHD assessment."
    assert option_line(1, "Housing Adaptations") == "Press 1 for Housing Adaptations."
    assert option_line(5, "Very good") == "Press 5 for very good."


def test_the_keypad_topics_match_the_chat_menu():
    from actions.common import MENU_TOPICS

    assert VOICE_MENU_TOPICS == MENU_TOPICS


def test_speech_hints_cover_every_need_within_twilios_limits(sample_directory):
    hints = speech_hints(sample_directory).split(", ")
    assert len(hints) == 500
    assert len(set(hints)) == 500 and max(len(h) for h in hints) <= 100
    assert hints[0] == sample_directory.needs[0].label.lower().replace(",", "")
    assert "wet room" in hints
    assert all("," not in h for h in hints)


def test_audio_is_recognised_by_its_frames():
    assert mp3_frames(silent_mp3(1.0)) == 42
    assert audio_kind(silent_mp3(1.0)) == "mp3"
    assert audio_kind(b"ID3\x00\x00\x00\x00\x00\x00\x00" + FRAME * 3) == "mp3"
    assert audio_kind(b"<html>Too many requests</html>") is None
    assert audio_kind(FRAME) is None  # one frame could be chance
