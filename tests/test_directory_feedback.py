"""'This is wrong' on any channel: the action with real rasa-sdk objects, and the report
for the Local Offer team that shows it."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, text

from actions import services
from actions.directory_feedback import ENTITY, INTENT, ActionDirectoryFeedback
from bot.db import session_scope
from bot.directory.store import load_directory
from bot.feedback.store import FeedbackRow
from bot.publish.report import report_text, wrong_reports


@pytest.fixture(autouse=True)
def app_database(loaded_engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", str(loaded_engine.url))
    services.reset()
    yield loaded_engine
    services.reset()


def tracker(text: str, slots: dict[str, Any] | None = None, entities=(), channel="sms",
            message_id="m-1") -> Tracker:  # fmt: skip
    return Tracker(
        sender_id="sms-3f2a",
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": "report_directory_error", "confidence": 0.9},
            "entities": list(entities),
            "message_id": message_id,
        },
        events=[{"event": "user", "text": text, "input_channel": channel}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionDirectoryFeedback().run(dispatcher, t, {}))
    return dispatcher.messages, events


def kept(engine) -> list[tuple[str, str, str, list[str], bool, Any, Any]]:
    with session_scope(engine) as session:
        return [
            (r.channel, r.service_key, r.text, r.themes, r.consent, r.sender, r.conversation_id)
            for r in session.scalars(select(FeedbackRow).order_by(FeedbackRow.id))
        ]


def test_a_named_service_is_kept_as_feedback_about_it(app_database):
    messages, events = run(tracker("the number for pods is wrong"))
    assert [m["text"] for m in messages] == [
        "Thank you for telling us.\nI have passed it to the Local Offer team.\n"
        "They will check the phone number for PODS Parent Carer Forum.\n"
        "Until then, you could try this. Email pods@example.org.\n"
        "Sample data: made-up contacts."
    ]
    assert events == [SlotSet("directory_error_text", None)]
    record = ("sms", "pods", "the number for pods is wrong", ["directory_error"], False, None, None)
    assert kept(app_database) == [record]
    run(tracker("the number for pods is wrong"))  # the same delivery again: kept once
    assert kept(app_database) == [record]
    report = report_text(
        load_directory(app_database),
        date.today(),
        [],
        wrong_reports(app_database, load_directory(app_database)),
    )
    assert "  pods                         PODS Parent Carer Forum: 1 report, latest" in report


def test_the_one_service_just_shown_is_the_one_meant(app_database):
    run(tracker("that number is wrong", {"shown_keys": ["speech_language_therapy"]}))
    assert [r[1] for r in kept(app_database)] == ["speech_language_therapy"]


def test_several_shown_asks_which_and_keeps_the_words_meanwhile(app_database):
    said = "that number is wrong"
    messages, events = run(tracker(said, {"shown_keys": ["sendiass", "pods"]}))
    (message,) = messages
    assert message["text"] == "Thank you. Which one has the wrong details?"
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("Telford & Wrekin IASS (SENDIASS)",
         '/report_directory_error{"directory_entry": "sendiass"}'),
        ("PODS Parent Carer Forum", '/report_directory_error{"directory_entry": "pods"}'),
        ("Another service", '/report_directory_error{"directory_entry": ""}'),
    ]  # fmt: skip
    assert events == [SlotSet("directory_error_text", said)]
    assert kept(app_database) == []
    payload = message["buttons"][1]["payload"]
    entity = {"entity": ENTITY, "value": json.loads(payload.removeprefix(INTENT))[ENTITY]}
    messages, events = run(
        tracker(payload, {"directory_error_text": said}, [entity], message_id="m-2")
    )
    assert messages[0]["text"].splitlines()[2] == (
        "They will check the phone number for PODS Parent Carer Forum."
    )
    assert [(r[1], r[2]) for r in kept(app_database)] == [("pods", said)]
    assert events == [SlotSet("directory_error_text", None)]


def test_no_service_known_is_still_kept_for_the_team(app_database):
    messages, _ = run(tracker("this is all out of date", channel="telegram"))
    assert messages[0]["text"].splitlines()[-1] == "They check every service's details."
    assert [(r[0], r[1]) for r in kept(app_database)] == [("telegram", "general")]


def test_a_broken_database_gets_a_kind_answer_and_keeps_the_words(app_database):
    with app_database.begin() as connection:  # a real failure: the table is gone
        connection.execute(text("drop table you_said_we_did_notices"))
        connection.execute(text("drop table feedback"))
    messages, events = run(tracker("the number for pods is wrong"))
    assert messages[0]["text"] == (
        "Sorry, I could not pass that on just now. Please try again later."
    )
    assert events == [SlotSet("directory_error_text", "the number for pods is wrong")]
