"""SMS rendering is pure: GSM-7 text, numbered menus, segment counts."""

from __future__ import annotations

import pytest

from bot.sms import is_gsm7, numbered_menu, pick_option, render, segments, to_gsm7

BUTTONS = [
    {"title": "More options", "payload": "/more_options"},
    {"title": "Talk to someone", "payload": "/talk_to_someone"},
    {"title": "Give feedback", "payload": "/give_feedback"},
]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("It\u2019s \u201cfine\u201d \u2013 really\u2026", 'It\'s "fine" - really...'),
        ("Thanks \U0001f60a\U0001f44d", "Thanks"),
        ("caf\u00e9 na\u00efve \u00e1", "caf\u00e9 naive a"),
        ("Cost: \u00a35 or \u20ac6", "Cost: \u00a35 or \u20ac6"),
    ],
)
def test_text_is_made_gsm7(text, plain):
    assert to_gsm7(text) == plain
    assert is_gsm7(to_gsm7(text))


def test_segments():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("\u20ac" * 80) == 1  # two septets each: 160
    assert segments("\u20ac" * 81) == 2
    assert segments("\U0001f600") == 1  # UCS-2
    assert segments("\u2019" * 71) == 2


def test_buttons_become_a_numbered_menu_and_a_digit_picks():
    assert numbered_menu(BUTTONS) == "Reply 1 More options, 2 Talk to someone, 3 Give feedback."
    assert pick_option("2", BUTTONS) == "/talk_to_someone"
    assert pick_option(" 3. ", BUTTONS) == "/give_feedback"
    assert pick_option("4", BUTTONS) is None
    assert pick_option("12 months", BUTTONS) is None


def test_render_joins_a_turn_into_one_plain_sms():
    reply = render(
        [
            {"text": "These can help:\n1. Portage \u2013 home learning.", "buttons": BUTTONS},
            {"custom": {"signpost": ["portage"]}},
            {"text": "We keep this chat to help you."},
        ]
    )
    assert reply.text == (
        "These can help:\n1. Portage - home learning.\nWe keep this chat to help you.\n"
        "Reply 1 More options, 2 Talk to someone, 3 Give feedback."
    )
    assert reply.buttons == tuple(BUTTONS)
    assert reply.segments == 1


def test_a_shorter_sms_wording_replaces_the_message_before_it():
    reply = render(
        [
            {"text": "These can help:\n1. A long line about a service. Call 01632 960101."},
            {"custom": {"signpost": ["a"], "sms": "These can help:\n1. Service A: 01632 960101"}},
        ]
    )
    assert reply.text == "These can help:\n1. Service A: 01632 960101"
