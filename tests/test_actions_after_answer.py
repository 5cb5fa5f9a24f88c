"""The actions for the turns after the first answer, with real rasa-sdk objects: praise,
complaints, turned down, every way to reach a service, opening hours, the glossary, my
cases, call backs, other languages, and a young person's voice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import services
from actions.cases import ActionCaseStatus, ActionCreateCase
from actions.conversation import YOUNG_GREETING, ActionGreet
from actions.feedback import ActionStartFeedback
from actions.kinds import ActionComplain, ActionPraise, ActionTurnedDown
from actions.reach import (
    ActionContactRoute,
    ActionCreateCallBack,
    ActionExplainTerm,
    ActionOpeningHours,
    ActionOtherLanguage,
)
from actions.signpost import ActionSignpost
from bot.contacts import remember_contact
from bot.db import session_scope
from bot.feedback.store import FeedbackRow
from bot.routing.callbacks import CallBackRow, call_back_number
from bot.routing.cases import CaseRow
from bot.safety_log import SafetyFlagRow
from bot.sms import render


@pytest.fixture(autouse=True)
def app_database(loaded_engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", str(loaded_engine.url))
    monkeypatch.setenv("ASSISTANT_NOW", "2026-12-28T10:00:00+00:00")  # Boxing Day (substitute)
    services.reset()
    yield loaded_engine
    services.reset()


def tracker(
    text: str, intent: str = "ask_signpost", slots: dict[str, Any] | None = None,
    sender: str = "sms-fam", channel: str = "sms", message_id: str = "msg-1",
) -> Tracker:  # fmt: skip
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
            "message_id": message_id,
        },  # fmt: skip
        events=[{"event": "user", "text": text, "input_channel": channel}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, track: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    return dispatcher.messages, events


def feedback_rows(engine) -> list[tuple]:
    with session_scope(engine) as session:
        return [
            (r.service_key, r.rating, r.kind, r.consent, r.sender)
            for r in session.scalars(select(FeedbackRow))
        ]


def test_praise_is_kept_as_thanks_for_the_service_with_its_rating(app_database):
    messages, _ = run(ActionPraise(), tracker("shining stars playgroup is brilliant 5 stars"))
    assert messages[0]["text"].startswith(
        "Thank you! I have saved your thanks for Short Breaks and Activities. "
        "I have noted your 5 out of 5."
    )
    assert messages[0]["custom"] == {
        "kind": "praise", "service": "short_breaks", "signpost": ["short_breaks"],
    }  # fmt: skip
    run(ActionPraise(), tracker("PODS have been amazing, want to say thanks", message_id="m2"))
    assert feedback_rows(app_database) == [
        ("short_breaks", 5, "praise", False, None), ("pods", None, "praise", False, None),
    ]  # fmt: skip


def test_a_compliment_after_a_case_was_offered_is_praise_for_that_service(app_database):
    slots = {"pending_issue": "PODS have been amazing with us", "pending_service": "pods"}
    messages, events = run(ActionPraise(), tracker("no it's a compliment", "praise", slots))
    assert "thanks for PODS Parent Carer Forum" in messages[0]["text"]
    assert SlotSet("pending_issue", None) in events
    with session_scope(app_database) as session:
        assert session.scalars(select(FeedbackRow.text)).one() == "PODS have been amazing with us"


def test_a_complaint_offers_that_services_route_and_sends_it_on_yes(app_database):
    said = "the speech therapist was really rude to me"
    messages, events = run(ActionComplain(), tracker(said, "complain"))
    lines = messages[0]["text"].splitlines()
    assert lines[0] == (
        "I'm sorry this happened. You can complain about Children's Speech and Language "
        "Therapy to NHS Patient Advice and Liaison Service (PALS)."
    )
    assert "Call 01632 960131, or email pals@example.org." in lines[1]
    slots = {e["name"]: e["value"] for e in events}
    assert slots["pending_service"] == "healthwatch"
    messages, _ = run(ActionCreateCase(), tracker("yes", "affirm", slots))
    assert messages[0]["text"].startswith(
        "Thank you. I am sending it to Healthwatch Telford and Wrekin now.\n"
    )
    assert "Say it like this" not in messages[0]["text"]
    with session_scope(app_database) as session:
        assert session.scalars(select(CaseRow.category)).one() == "complaint"


def test_turned_down_names_the_other_routes_and_the_right_to_reasons():
    said = "Turned down for a social care assessment twice, nobody told us where else to go"
    messages, _ = run(ActionTurnedDown(), tracker(said, "turned_down"))
    text = messages[0]["text"]
    assert "Ask them to write down the reasons." in text
    for name in ("Telford & Wrekin IASS (SENDIASS)", "Council Complaints Team",
                 "Strengthening Families (Early Help)", "PODS Parent Carer Forum"):  # fmt: skip
        assert name in text
    assert messages[0]["custom"]["kind"] == "turned_down"
    assert "buttons" in messages[0] and not any(
        b["payload"] == "/affirm" for b in messages[0]["buttons"]
    )


def test_a_no_about_an_ehc_assessment_is_challenged_with_the_council_not_the_advice_service():
    said = "the panel said no to an ehc assessment for my daughter, what now"
    messages, _ = run(ActionTurnedDown(), tracker(said, "turned_down"))
    text = messages[0]["text"]
    assert "You can appeal to the SEND Tribunal within 2 months." in text
    assert "Complaints: Council Complaints Team. Call 01632 960124" in text
    assert "IASS manager" not in text
    assert "Free, independent advice: Telford & Wrekin IASS (SENDIASS)." in text
    assert messages[0]["custom"]["service"] is None


def test_turned_down_by_sms_keeps_the_main_routes_within_four_segments():
    said = "got turned down for dla for my boy, hes got adhd and autism. what can i do"
    messages, _ = run(ActionTurnedDown(), tracker(said, "turned_down"))
    (message,) = messages
    # As Rasa hands it to the SMS channel: the text with its buttons, then the payload.
    sms = render([{"text": message["text"], "buttons": message["buttons"]},
                  {"custom": message["custom"]}])  # fmt: skip
    full = render([{"text": message["text"], "buttons": message["buttons"]}])
    assert full.segments > 4  # the whole reply would not fit
    assert sms.segments <= 4
    lines = sms.text.splitlines()
    assert lines[:2] == [
        "I'm sorry you were turned down. A no is not the end. You have other routes:",
        "1. Ask them to write down the reasons. You have a right to know why.",
    ]
    assert "Telford & Wrekin IASS (SENDIASS)" in sms.text
    assert "Complaints: Council Complaints Team" in sms.text
    assert lines[-2:] == [
        "Sample data: these contacts are made up for testing.",
        "Reply 1 Talk to someone, 2 Give feedback.",
    ]
    dropped = [line for line in message["text"].splitlines() if line not in lines]
    assert dropped and all(line.startswith(("5.", "6.")) for line in dropped)


def test_no_phone_calls_gets_email_text_and_web_routes_for_the_services_just_shown():
    slots = {"shown_keys": ["sendiass", "shout_out_for_send"]}
    messages, _ = run(
        ActionContactRoute(),
        tracker("i cant do phone calls, whats their email", "ask_contact_method", slots),
    )
    assert messages[0]["text"].splitlines()[:3] == [
        "You don't have to phone. You can:",
        "Telford & Wrekin IASS (SENDIASS): Email sendiass@example.org, or visit "
        "https://www.example.org/sendiass.",
        "Shout Out for SEND: Email shoutout@example.org, or text 07700 900125, or visit "
        "https://www.example.org/shout-out-for-send.",
    ]


def test_is_it_open_now_answers_for_the_service_just_named_in_uk_time():
    slots = {"shown_keys": ["sendiass"]}
    messages, _ = run(ActionOpeningHours(), tracker("is it open now", "ask_opening_hours", slots))
    assert messages[0]["text"].splitlines()[0] == (
        "Today is a bank holiday (Boxing Day). Telford & Wrekin IASS (SENDIASS) is closed now. "
        "It opens tomorrow at 9am."
    )


def test_what_is_a_word_explains_it_then_says_who_helps():
    messages, events = run(
        ActionExplainTerm(), tracker("what is a personal budget", "explain_term")
    )
    lines = messages[0]["text"].splitlines()
    assert lines[0] == (
        "personal budget: Money to pay for some of the support in a plan. "
        "You can choose how some of it is spent."
    )
    assert lines[1] == "Who can help:"
    assert lines[2].startswith("SEND Team (0-25): Call 01632 960103.")
    assert events == [SlotSet("shown_keys", messages[0]["custom"]["signpost"])]


def test_any_news_on_my_case_lists_only_my_open_cases(app_database):
    for sender, text in (("sms-fam", "the taxi didnt come"), ("sms-other", "the ot never came")):
        slots = {"pending_issue": text, "pending_service": "travel_assistance",
                 "pending_category": "transport|normal"}  # fmt: skip
        run(ActionCreateCase(), tracker("yes", "affirm", slots, sender=sender))
    messages, _ = run(ActionCaseStatus(), tracker("any news on my case", "case_status"))
    lines = messages[0]["text"].splitlines()
    assert lines[0] == "You have 1 open case:"
    assert lines[1].startswith("TW-") and lines[1].endswith(
        "It has been received. We are sending it to the team."
    )
    assert "SEND Travel Assistance" in lines[1]
    messages, _ = run(ActionCaseStatus(), tracker("any news on my case", sender="sms-new"))
    assert messages[0]["text"].startswith("I can't find any open cases from this chat.")


def test_a_call_back_by_text_is_a_case_to_the_local_offer_team_with_the_number_kept(
    app_database,
):
    remember_contact(app_database, "sms", "sms-fam", "+447700900123")
    slots = {"pending_issue": "i have no internet, can someone ring me"}
    messages, _ = run(ActionCreateCallBack(), tracker("yes", "affirm", slots))
    reference = messages[0]["custom"]["case"]
    assert messages[0]["text"].startswith(
        "Done. I have asked the Local Offer team to ring you on this number.\n"
        "They aim to call within 3 working days.\n"
        f"Your case reference is {reference}."
    )
    with session_scope(app_database) as session:
        case = session.scalars(select(CaseRow)).one()
        assert (case.service_key, case.category, case.consent) == ("local_offer", "call_back", True)
        assert session.scalars(select(CallBackRow.sender)).one() == "sms-fam"
    assert call_back_number(app_database, reference) == "+447700900123"


def test_a_call_back_on_the_web_chat_says_who_to_call_instead(app_database):
    messages, _ = run(ActionCreateCallBack(), tracker("yes", "affirm", channel="rest"))
    assert messages[0]["text"].startswith("You can talk to a person.")
    with session_scope(app_database) as session:
        assert session.scalars(select(CaseRow)).all() == []


def test_feedback_about_a_service_starts_the_form_with_it_filled_in():
    messages, events = run(ActionStartFeedback(), tracker("I want to give feedback about PODS"))
    assert events == [SlotSet("feedback_service", "pods")]
    assert messages[0]["text"] == (
        "Thank you. This is feedback about PODS Parent Carer Forum. "
        'Say "exit" to leave at any time.'
    )
    _, events = run(ActionStartFeedback(), tracker("I want to give feedback"))
    assert events == []
    _, events = run(
        ActionStartFeedback(),
        tracker("feedback: the portage visits have been really good for us, 4 stars"),
    )
    assert SlotSet("feedback_service", "portage") in events
    assert SlotSet("feedback_rating", "4") in events
    assert (
        SlotSet("feedback_text", "the portage visits have been really good for us, 4 stars")
        in events
    )


def test_a_message_in_polish_gets_the_interpreter_number_and_danger_gets_999_first(
    app_database,
):
    messages, events = run(
        ActionOtherLanguage(), tracker("Dzień dobry, potrzebuję pomocy dla mojego syna")
    )
    assert len(messages) == 1 and "Zadzwoń: 01632 960126" in messages[0]["text"]
    assert messages[0]["custom"] == {"language": "pl", "unicode": True}
    assert events == [SlotSet("language", "pl")]
    messages, _ = run(ActionOtherLanguage(), tracker("Ojciec mnie bije i boję się wracać do domu"))
    assert "call 999" in messages[0]["text"] and "Childline" in messages[0]["text"]
    with session_scope(app_database) as session:
        assert session.scalars(select(SafetyFlagRow)).all()


def test_a_young_person_is_spoken_to_directly_and_their_age_filters_what_is_named():
    messages, events = run(ActionGreet(), tracker("hi im 19", "greet"))
    assert messages[0]["text"] == YOUNG_GREETING
    assert SlotSet("speaker", "young_person") in events and SlotSet("age", "19") in events
    slots = {"age": "19", "speaker": "young_person"}
    messages, _ = run(ActionSignpost(), tracker("are there any playgroups or clubs", slots=slots))
    assert "playgroup" not in messages[0]["text"].lower()
    assert all(
        services.catalog().directory.entry(k).serves_age(19)
        for k in messages[0]["custom"]["signpost"]
    )
    # another child: the age given before no longer applies
    _, events = run(ActionSignpost(), tracker("what about my other son, he needs speech therapy",
                                              slots=slots))  # fmt: skip
    assert SlotSet("age", None) in events and SlotSet("speaker", "parent") in events


def test_a_carrier_keyword_by_sms_closes_the_form_without_a_second_message():
    from rasa_sdk.events import ActiveLoop

    from actions.feedback import ActionCancelFeedback

    messages, events = run(ActionCancelFeedback(), tracker("STOP", "cancel"))
    assert messages == [] and events[0] == ActiveLoop(None)
    messages, _ = run(ActionCancelFeedback(), tracker("exit", "cancel"))
    assert messages[0]["text"].startswith("OK, I have left the feedback.")
    messages, _ = run(ActionCancelFeedback(), tracker("stop", "cancel", channel="telegram"))
    assert messages[0]["text"].startswith("OK, I have left the feedback.")
