"""Telegram rendering: plain text, inline keyboards and the menu for long button payloads."""

from __future__ import annotations

import json

from telegram import Update

from channels.telegram import Inbound, read_update
from channels.telegram_render import (
    CALLBACK_DATA_LIMIT,
    MESSAGE_LIMIT,
    menu_for,
    render,
    resolve_callback,
    split_text,
)

OFFER = [
    {"title": "More options", "payload": "/more_options"},
    {"title": "Talk to someone", "payload": "/talk_to_someone"},
    {"title": "Give feedback", "payload": "/give_feedback"},
]
LONG_NAME = "Special Educational Needs and Disabilities Information, Advice and Support Service"


def buttons(markup):
    return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]


def test_text_with_buttons_becomes_an_inline_keyboard_one_button_a_row():
    [(text, markup)] = render([{"text": "These can help:\n1. Travel", "buttons": OFFER}])
    assert text == "These can help:\n1. Travel"
    assert buttons(markup) == [
        ("More options", "/more_options"),
        ("Talk to someone", "/talk_to_someone"),
        ("Give feedback", "/give_feedback"),
    ]
    assert [len(row) for row in markup.inline_keyboard] == [1, 1, 1]


def test_custom_json_is_left_out_and_text_stays_plain():
    replies = render(
        [
            {"text": "Use *this* <b>now</b> & [link](x)"},
            {"custom": {"signpost": ["travel_assistance"]}},
            {"text": "Privacy note"},
        ]
    )
    assert replies == [("Use *this* <b>now</b> & [link](x)", None), ("Privacy note", None)]


def test_long_payloads_map_to_a_short_index_into_the_stored_menu():
    long_payload = LONG_NAME
    menu_buttons = [
        {"title": "Travel", "payload": "SEND Travel Assistance"},
        {"title": "SENDIASS", "payload": long_payload},
        {"title": "General feedback", "payload": "General"},
    ]
    messages = [{"text": "Which service?", "buttons": menu_buttons}]
    menu = menu_for(messages)
    assert menu == [{"title": "SENDIASS", "payload": long_payload}]
    [(_, markup)] = render(messages)
    data = [d for _, d in buttons(markup)]
    assert data[0] == "SEND Travel Assistance" and data[2] == "General"
    assert data[1].startswith("m:0:")
    assert all(len(d.encode()) <= CALLBACK_DATA_LIMIT for d in data)
    assert resolve_callback(data[1], menu) == long_payload
    assert resolve_callback("/more_options", menu) == "/more_options"


def test_a_button_from_an_older_menu_is_not_mistaken_for_a_new_one():
    old = menu_for([{"text": "a", "buttons": [{"title": "Old", "payload": "o" * 70}]}])
    [(_, markup)] = render([{"text": "a", "buttons": [{"title": "Old", "payload": "o" * 70}]}])
    [(_, pressed)] = buttons(markup)
    newer = [{"title": "New", "payload": "n" * 70}]
    assert resolve_callback(pressed, old) == "o" * 70
    assert resolve_callback(pressed, newer) is None
    assert resolve_callback("m:9:abc", newer) is None
    assert resolve_callback("m:x", newer) is None


def test_menu_payloads_with_multibyte_characters_are_measured_in_bytes():
    payload = "é" * 40  # 40 characters, 80 bytes
    assert menu_for([{"text": "x", "buttons": [{"title": "é", "payload": payload}]}]) == [
        {"title": "é", "payload": payload}
    ]


def test_the_topic_menu_payloads_fit_as_they_are():
    payload = "/ask_signpost" + json.dumps({"need": "short_breaks_activities"})
    [(_, markup)] = render(
        [{"text": "Pick a topic", "buttons": [{"title": "x", "payload": payload}]}]
    )
    assert buttons(markup) == [("x", payload)]


def test_buttons_without_text_get_a_short_prompt():
    [(text, markup)] = render([{"buttons": OFFER[:1]}])
    assert text == "Please choose:" and buttons(markup) == [("More options", "/more_options")]


def test_very_long_text_is_split_and_the_keyboard_goes_last():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))
    replies = render([{"text": text, "buttons": OFFER}])
    assert len(replies) == 3
    assert all(len(part) <= MESSAGE_LIMIT for part, _ in replies)
    assert [markup is None for _, markup in replies] == [True, True, False]
    assert "\n".join(part for part, _ in replies) == text
    assert split_text("word " * 2000, 100)[0] == ("word " * 20).strip()


def _update(message):
    data = {"update_id": 1, "message": {"message_id": 5, "date": 0, **message}}
    return Update.de_json(data, None)


PRIVATE = {
    "chat": {"id": 42, "type": "private"},
    "from": {"id": 42, "is_bot": False, "first_name": "A"},
}


def test_reading_updates_commands_text_and_things_that_are_not_text():
    assert read_update(_update({**PRIVATE, "text": "/start"})) == Inbound(
        42, "/start", command="start"
    )
    assert read_update(_update({**PRIVATE, "text": "/help@helper_bot"})).command == "help"
    # Other slashes are read as words, never as intents.
    assert read_update(_update({**PRIVATE, "text": "/affirm"})) == Inbound(42, "affirm")
    sticker = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False,
               "is_video": False, "type": "regular"}  # fmt: skip
    assert not read_update(_update({**PRIVATE, "sticker": sticker})).readable
    long = read_update(_update({**PRIVATE, "text": "word " * 1000}))
    assert long.truncated and len(long.text) <= 2000
    group = {"chat": {"id": -5, "type": "group"}, "text": "hello"}
    assert read_update(_update(group)) is None
