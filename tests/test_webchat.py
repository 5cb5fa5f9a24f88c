"""The web chat's "listen" check: only words the assistant said in that chat are read out."""

from __future__ import annotations

from rasa.shared.core.events import BotUttered, UserUttered

from channels.webchat import answers_said, listen_request

BUTTONS = [{"title": "More options", "payload": "/more_options"}]
EVENTS = [
    UserUttered("hello"),
    BotUttered("Hello. Tell me what you need.\n\nWe keep chats for 180 days."),
    UserUttered("school transport"),
    BotUttered("These can help:\n1. SEND Travel Assistance", {"buttons": BUTTONS}),
]


def test_an_answer_is_found_with_its_buttons_and_the_words_before_it():
    messages, private = answers_said(EVENTS, ["These can help:\n1. SEND Travel Assistance"])
    assert [(m["text"], m["buttons"]) for m in messages] == [
        ("These can help:\n1. SEND Travel Assistance", BUTTONS)
    ]
    assert private == "school transport"


def test_a_part_of_an_answer_split_at_a_blank_line_counts_as_said():
    messages, private = answers_said(EVENTS, ["We keep chats for 180 days."])
    assert messages == [{"text": "We keep chats for 180 days."}]
    assert private == "hello"


def test_words_the_assistant_never_said_are_not_read():
    assert answers_said(EVENTS, ["Call 0900 000000 now"]) is None
    assert answers_said(EVENTS, ["We keep chats for 180 days.", "made up"]) is None
    assert answers_said([], ["Hello."]) is None


def test_a_listen_request_needs_one_to_ten_texts():
    assert listen_request({"texts": ["Hi."]}) == ["Hi."]
    assert listen_request({"sender": "web-other", "texts": ["Hi."]}) == ["Hi."]  # ignored
    for bad in (
        None, [], {"sender": "web-1"}, {"texts": "Hi."}, {"texts": []}, {"texts": ["x"] * 11},
        {"texts": [""]}, {"texts": ["x" * 5001]}, {"texts": [3]},
    ):  # fmt: skip
        assert listen_request(bad) is None
