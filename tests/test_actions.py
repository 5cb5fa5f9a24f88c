"""Actions run with real rasa-sdk objects: a Tracker, a CollectingDispatcher, the exact events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import services
from actions.common import OFFER_BUTTONS, PRIVACY_NOTE
from actions.conversation import ActionTopicMenu
from actions.feedback import ActionCancelFeedback, ActionSubmitFeedback, ValidateFeedbackForm
from actions.listen import ActionReadAloud, ActionTextOnly
from actions.privacy import ActionDeleteMyData
from actions.safety import ActionCrisis, ActionSafeguardingFollowup, asks_who_helps
from actions.signpost import ActionMoreOptions, ActionSignpost, ActionTalkToSomeone
from bot.db import session_scope
from bot.feedback.store import FeedbackRow
from bot.safety import SafetyCheck, check_message
from bot.safety_log import SafetyFlagRow

DOMAIN: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def app_database(loaded_engine, monkeypatch):
    """Point the action server's handles at a temporary database holding the sample data."""
    monkeypatch.setenv("DATABASE_URL", str(loaded_engine.url))
    services.reset()
    yield loaded_engine
    services.reset()


def tracker(
    text: str = "",
    intent: str = "ask_signpost",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    sender: str = "rest-test",
    active_loop: str | None = None,
) -> Tracker:
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities or [],
            "message_id": "msg-1",
        },
        events=[{"event": "user", "text": text, "input_channel": "rest"}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action, track: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, DOMAIN))
    return dispatcher.messages, events


def test_signpost_names_who_can_help_and_offers_next_steps():
    messages, events = run(ActionSignpost(), tracker("he needs a wet room and a ramp"))
    first = messages[0]
    assert (
        first["text"]
        .splitlines()[1]
        .startswith("1. Housing Adaptations (Disabled Facilities Grant): ")
    )
    assert first["text"].splitlines()[-1] == "Sample data: these contacts are made up for testing."
    assert first["buttons"] == OFFER_BUTTONS
    keys = first["custom"]["signpost"]
    assert keys[0] == "housing_adaptations" and 1 <= len(keys) <= 3
    assert first["custom"]["sms"].splitlines()[1] == (
        "1. Housing Adaptations (Disabled Facilities Grant): 01632 960122"
    )
    assert messages[1]["text"] == PRIVACY_NOTE
    assert events == [
        SlotSet("privacy_notice_shown", True),
        SlotSet("last_query", "he needs a wet room and a ramp"),
        SlotSet("shown_keys", keys),
    ]


def test_privacy_note_is_given_once():
    messages, events = run(
        ActionSignpost(), tracker("school transport", slots={"privacy_notice_shown": True})
    )
    assert len(messages) == 1
    assert SlotSet("privacy_notice_shown", True) not in events


def test_menu_button_signposts_by_need():
    messages, events = run(
        ActionSignpost(),
        tracker('/ask_signpost{"need":"ehcp"}', entities=[{"entity": "need", "value": "ehcp"}]),
    )
    assert messages[0]["custom"]["signpost"][0] == "send_team"
    assert SlotSet("last_query", "need:ehcp") in events


def test_no_match_offers_the_topic_menu():
    messages, _ = run(ActionSignpost(), tracker("qwerty zxcvb"))
    assert messages[0]["text"] == (
        "Sorry, I'm not sure I understood. Pick a topic, or tell me in other words."
    )
    assert len(messages[0]["buttons"]) == 8
    assert messages[0]["buttons"][0]["payload"] == '/ask_signpost{"need": "ehcp"}'


def test_more_options_shows_the_next_entries_or_says_there_are_none():
    slots = {"last_query": "need:respite", "shown_keys": ["children_disability_team"]}
    messages, events = run(ActionMoreOptions(), tracker("more", "more_options", slots))
    shown = messages[0]["custom"]["signpost"]
    assert "children_disability_team" not in shown and shown
    assert messages[0]["text"].splitlines()[1].startswith("2. ")
    assert events == [SlotSet("shown_keys", ["children_disability_team", *shown])]
    messages, events = run(ActionMoreOptions(), tracker("more", "more_options", {}))
    assert messages[0]["text"].startswith("I have no more options for that.")
    assert events == []


def test_a_first_message_read_as_more_options_is_searched_as_a_need():
    text = "is there a group where carers like me can get together"
    messages, events = run(ActionMoreOptions(), tracker(text, "more_options", {}))
    shown = messages[0]["custom"]["signpost"]
    assert shown[0] == "pods"
    assert messages[0]["text"].splitlines()[1].startswith("1. PODS Parent Carer Forum")
    assert events == [SlotSet("last_query", text), SlotSet("shown_keys", shown)]


def test_talk_to_someone_gives_people_to_call():
    messages, _ = run(ActionTalkToSomeone(), tracker("can i speak to a person"))
    lines = messages[0]["text"].splitlines()
    assert lines[0] == "You can talk to a person."
    assert lines[1].startswith("Local Offer Team") or lines[1].startswith("Local Offer")
    assert lines[-1] == "Sample data: these contacts are made up for testing."


def test_crisis_sends_emergency_contacts_and_flags_for_review(app_database):
    messages, events = run(ActionCrisis(), tracker("my dad hits me", "crisis", sender="tg-123"))
    assert messages[0]["text"].splitlines()[1] == "If someone is in danger right now, call 999."
    assert "NSPCC on 0808 800 5000" in messages[0]["text"]
    assert events == [
        ActiveLoop(None), SlotSet("safeguarding", ["physical_abuse"]),
        SlotSet("safeguarding_asked", False),
    ]  # fmt: skip
    with session_scope(app_database) as session:
        flag = session.scalars(select(SafetyFlagRow)).one()
    assert (flag.conversation_id, flag.channel, flag.category) == (
        "tg-123",
        "rest",
        "physical_abuse",
    )
    assert "physical_abuse: pattern" in flag.reasons


def test_crisis_reply_survives_a_broken_database(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent-dir/forbidden/app.db")
    services.reset()
    messages, _ = run(ActionCrisis(), tracker("i want to end it all", "crisis"))
    text = messages[0]["text"]
    assert "call 999" in text and "0800 1111" in text and "116 123" in text


def test_crisis_reply_reads_the_front_door_directly_never_the_catalog(monkeypatch):
    def no_catalog(*_args):  # type: ignore[no-untyped-def]
        pytest.fail("the crisis reply waited on the directory catalog")

    monkeypatch.setattr(services, "build_catalog", no_catalog)
    messages, _ = run(ActionCrisis(), tracker("my dad hits me", "crisis"))
    assert "Family Connect" in messages[0]["text"]
    assert "01632 960111" in messages[0]["text"]


def _wait_for_refresh() -> None:
    import time

    deadline = time.monotonic() + 30
    while services._refreshing and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not services._refreshing


def test_catalog_is_built_at_start_and_rebuilt_only_when_the_directory_changes(
    app_database, sample_directory, monkeypatch
):
    from dataclasses import replace

    from bot.directory.records import Entry
    from bot.directory.store import save_directory

    monkeypatch.setenv("DIRECTORY_WARM_UP", "1")
    services.reset()
    builds: list[int] = []
    real_build = services.build_catalog

    def counting(db):  # type: ignore[no-untyped-def]
        built = real_build(db)
        builds.append(built[0])
        return built

    monkeypatch.setattr(services, "build_catalog", counting)
    services.warm_up()
    assert len(builds) == 1
    first = services.catalog()
    assert len(builds) == 1  # the first search does not build again
    monkeypatch.setattr(services, "CHECK_EVERY_SECONDS", 0.0)
    assert services.catalog() is first
    _wait_for_refresh()
    assert len(builds) == 1  # the version did not change: nothing rebuilt
    extra = Entry(
        key="riverside_play", name="Riverside Play", kind="service",
        summary="Play sessions for disabled children.", needs=("short_breaks_activities",),
    )  # fmt: skip
    save_directory(app_database, replace(sample_directory, entries=(extra,), source="feed"))
    assert services.catalog() is first  # never waits: the old one answers meanwhile
    _wait_for_refresh()
    assert len(builds) == 2
    rebuilt = services.catalog()
    assert rebuilt is not first
    assert rebuilt.directory.entry("riverside_play") is not None


@pytest.mark.parametrize(
    ("slot", "answer", "stored"),
    [
        ("feedback_rating", "five", "5"),
        ("feedback_rating", "meh", "3"),
        ("feedback_rating", "purple", None),
        ("feedback_service", "SEND Team (0-25)", "send_team"),
        ("feedback_service", "general", "general"),
        ("feedback_service", "the taxi people", "travel_assistance"),
        ("feedback_consent", "yes please", "yes"),
        ("feedback_consent", "No", "no"),
        ("feedback_consent", "hmm", None),
    ],
)
def test_feedback_form_validation(slot, answer, stored):
    dispatcher = CollectingDispatcher()
    validate = getattr(ValidateFeedbackForm(), f"validate_{slot}")
    assert validate(answer, dispatcher, tracker(answer, "inform"), DOMAIN) == {slot: stored}
    assert bool(dispatcher.messages) is (stored is None)


FORM = {
    "feedback_service": "travel_assistance",
    "feedback_rating": "2",
    "feedback_text": "the taxi is late every day and nobody calls back",
    "feedback_consent": "yes",
}


def test_submitted_feedback_is_stored_once_with_themes(app_database):
    track = tracker("yes", "affirm", FORM, sender="sms-abc")
    messages, events = run(ActionSubmitFeedback(), track)
    run(ActionSubmitFeedback(), track)  # the same delivery again
    assert messages[0]["text"] == (
        "Thank you. Your feedback helps services get better. We will reply on this chat."
    )
    assert SlotSet("feedback_text", None) in events
    with session_scope(app_database) as session:
        row = session.scalars(select(FeedbackRow)).one()
    assert (row.service_key, row.rating, row.consent, row.conversation_id, row.channel) == (
        "travel_assistance", 2, True, "sms-abc", "rest",
    )  # fmt: skip
    assert row.themes == ["communicate", "transport"]


@pytest.mark.parametrize("rating, text", [(None, None), (None, "   "), ("", "")])
def test_an_empty_form_is_not_stored_or_thanked(app_database, rating, text):
    empty = {**FORM, "feedback_rating": rating, "feedback_text": text}
    messages, events = run(ActionSubmitFeedback(), tracker("no", "deny", empty))
    assert [m["text"] for m in messages] == [
        'Sorry, I did not get your feedback, so nothing was kept. Say "feedback" to try again.'
    ]
    assert SlotSet("feedback_rating", None) in events
    with session_scope(app_database) as session:
        assert session.scalars(select(FeedbackRow)).all() == []


def test_a_rating_alone_or_words_alone_is_feedback(app_database):
    run(ActionSubmitFeedback(), tracker("no", "deny", {**FORM, "feedback_text": None}))
    words_only = {**FORM, "feedback_rating": None}
    run(ActionSubmitFeedback(), tracker("no", "deny", words_only, sender="x"))
    with session_scope(app_database) as session:
        assert len(session.scalars(select(FeedbackRow)).all()) == 2


def test_cancel_leaves_the_form_and_keeps_nothing(app_database):
    messages, events = run(
        ActionCancelFeedback(), tracker("stop", "cancel", FORM, active_loop="feedback_form")
    )
    assert messages[0]["text"] == (
        "OK, I have left the feedback. I have not kept any of that. What else can I help with?"
    )
    assert events[0] == ActiveLoop(None)
    assert SlotSet("feedback_text", None) in events
    with session_scope(app_database) as session:
        assert session.scalars(select(FeedbackRow)).all() == []


def test_delete_my_data_erases_records_and_asks_the_tracker_store_to_erase(app_database):
    run(ActionSubmitFeedback(), tracker("yes", "affirm", FORM, sender="sms-abc"))
    run(ActionCrisis(), tracker("i want to die", "crisis", sender="sms-abc"))
    messages, events = run(ActionDeleteMyData(), tracker("yes", "affirm", sender="sms-abc"))
    assert events == [SlotSet("erasure", "done")]
    assert messages[0]["text"].splitlines()[0] == "Done. I have deleted our chat history."
    with session_scope(app_database) as session:
        assert session.scalars(select(FeedbackRow)).all() == []
        flag = session.scalars(select(SafetyFlagRow)).one()
    assert flag.conversation_id == "erased"


def test_an_issue_is_confirmed_then_becomes_a_case_only_its_family_can_follow(app_database):
    from actions.cases import ActionCaseStatus, ActionCreateCase, ActionRaiseIssue
    from bot.notify.outbox import OutboxRow

    said = "the school taxi didnt turn up again today"
    messages, events = run(ActionRaiseIssue(), tracker(said, "raise_issue", sender="sms-fam"))
    lines = messages[0]["text"].splitlines()
    assert lines[0] == f'I can send this to SEND Travel Assistance: "{said}"'
    assert lines[1].startswith("They aim to reply within 2 working days.")
    assert messages[0]["custom"] == {
        "kind": "problem",
        "signpost": ["travel_assistance"],
        "sms": "I can send this to SEND Travel Assistance. They aim to reply within 2 working "
        "days. You will get a case reference and updates by text. Shall I send it?",
    }
    assert events == [
        SlotSet("pending_issue", said),
        SlotSet("pending_service", "travel_assistance"),
        SlotSet("pending_category", "transport|normal"),
    ]
    slots = {e["name"]: e["value"] for e in events}
    messages, events = run(ActionCreateCase(), tracker("yes", "affirm", slots, sender="sms-fam"))
    reference = messages[0]["text"].split("reference is ")[1].split(".")[0]
    assert reference.startswith("TW-") and len(reference) == 9
    assert messages[0]["text"].startswith(
        "Thank you. I am sending it to SEND Travel Assistance now.\nYour case reference is"
    )
    assert SlotSet("pending_issue", None) in events
    with session_scope(app_database) as session:
        (notice,) = session.scalars(select(OutboxRow)).all()
    assert notice.channel == "email" and reference in notice.body

    asked = f"whats happening with {reference.lower()}"
    messages, _ = run(ActionCaseStatus(), tracker(asked, "case_status", sender="sms-fam"))
    assert messages[0]["text"] == (
        f"Your case {reference} has been received. We are sending it to the team."
    )
    messages, _ = run(ActionCaseStatus(), tracker(asked, "case_status", sender="sms-other"))
    assert messages[0]["text"].startswith(f"I can't find case {reference} for you.")


def test_talk_to_someone_about_a_topic_names_who_to_talk_to():
    messages, events = run(
        ActionTalkToSomeone(), tracker("can someone talk me through his speech therapy report")
    )
    assert messages[0]["custom"]["signpost"][0] == "speech_language_therapy"
    assert events[0] == SlotSet(
        "last_query", "can someone talk me through his speech therapy report"
    )


def test_a_configured_safeguarding_contact_is_emailed_without_message_text(
    app_database, monkeypatch
):
    from bot.notify.outbox import OutboxRow
    from bot.safety_log import open_flags

    monkeypatch.setenv("SAFEGUARDING_CONTACT", "safeguarding@example.org")
    services.reset()
    run(ActionCrisis(), tracker("my dad hits me", "crisis", sender="tg-456"))
    with session_scope(app_database) as session:
        (email,) = session.scalars(select(OutboxRow)).all()
    assert (email.channel, email.recipient) == ("email", "safeguarding@example.org")
    (flag,) = open_flags(app_database)
    assert email.body == (
        "A conversation needs a safeguarding review now.\n"
        "Category: physical_abuse.\n"
        f"Log in to the staff console to read it: http://localhost:5080/flags/{flag.id}"
    )  # the category and a link: no words, no conversation id, no reasons
    assert flag.conversation_id == "tg-456" and flag.category == "physical_abuse"


def test_a_very_long_message_is_read_in_part_with_a_polite_note():
    messages, _ = run(ActionSignpost(), tracker("school transport " + "x" * 5000))
    assert messages[0]["text"] == "Your message was long, so I read the first part."
    assert messages[1]["custom"]["signpost"][0] == "travel_assistance"


# --- read it to me ----------------------------------------------------------------------

ANSWER = {"text": "These can help:\n1. SEND Team", "data": {"buttons": OFFER_BUTTONS}}


def conversation(channel: str, *earlier: dict[str, Any]) -> Tracker:
    """A tracker whose last message is "read it to me", after ``earlier`` events."""
    track = tracker("read it to me", intent="read_aloud")
    now = {"event": "user", "text": "read it to me", "input_channel": channel}
    track.events = [*earlier, now]
    return track


def test_read_aloud_turns_the_setting_on_and_says_the_last_answer_again():
    earlier = (
        {"event": "user", "text": "hi", "input_channel": "telegram"},
        {"event": "bot", "text": "Hello."},
        {"event": "user", "text": "ehcp help", "input_channel": "telegram"},
        {"event": "bot", **ANSWER},
        {"event": "bot", "text": PRIVACY_NOTE, "data": {}},
    )
    messages, events = run(ActionReadAloud(), conversation("telegram", *earlier))
    assert [(m["text"], m["buttons"], m["custom"]) for m in messages] == [
        ("OK. I will read my answers out loud as well.", [], {"read_aloud": True}),
        ("Here is my last answer again.", [], {}),
        ("These can help:\n1. SEND Team", OFFER_BUTTONS, {}),
    ]  # the privacy note is not repeated
    assert events == [SlotSet("read_aloud", True)]


def test_read_aloud_with_nothing_said_yet_asks_what_they_need():
    messages, events = run(ActionReadAloud(), conversation("rest"))
    assert [m["text"] for m in messages] == [
        "OK. I will read my answers out loud as well.",
        "Tell me what you need, and I will read out my answer.",
    ]
    assert events == [SlotSet("read_aloud", True)]


def test_by_text_message_read_aloud_points_to_the_phone_line(monkeypatch):
    messages, events = run(ActionReadAloud(), conversation("sms"))
    assert [m["text"] for m in messages] == [
        "Sorry, text messages cannot carry sound. You can ask to talk to someone instead."
    ]
    monkeypatch.setenv("PHONE_LINE_NUMBER", "01632 960100")
    services.reset()
    messages, events = run(ActionReadAloud(), conversation("sms"))
    assert [m["text"] for m in messages] == [
        "Text messages cannot carry sound. Call 01632 960100 to hear my answers read out."
    ]
    assert events == []


def test_text_only_turns_reading_aloud_off():
    messages, events = run(ActionTextOnly(), tracker("just text please", intent="text_only"))
    assert [(m["text"], m["custom"]) for m in messages] == [
        ('OK. I will only send text now. Say "read it to me" to hear answers again.',
         {"read_aloud": False}),
    ]  # fmt: skip
    assert events == [SlotSet("read_aloud", False)]


def test_read_aloud_in_a_form_leaves_the_question_to_the_form():
    track = conversation("telegram", {"event": "bot", "text": "Which service is it about?"})
    track.active_loop = {"name": "feedback_form"}
    messages, events = run(ActionReadAloud(), track)
    assert [m["text"] for m in messages] == ["OK. I will read my answers out loud as well."]
    assert events == [SlotSet("read_aloud", True)]


# --- the one age question -----------------------------------------------------------------

AGE_MATTERS = "she only gets 1 to 1 for an hour a week and its not enough"
ASKED = {"age_pending_query": AGE_MATTERS, "age_asked": True}
ADULT = ["send_team", "sendiass", "preparation_for_adulthood"]  # for AGE_MATTERS at 21


def test_a_need_whose_help_depends_on_age_gets_one_question_first():
    messages, events = run(ActionSignpost(), tracker(AGE_MATTERS))
    assert [(m["text"], [b["title"] for b in m["buttons"]]) for m in messages] == [
        ("How old is your child or young person? Services differ by age.",
         ["Under 5", "Age 5 to 10", "Age 11 to 15", "Age 16 or 17", "Age 18 to 25",
          "Not sure"]),
    ]  # fmt: skip
    assert messages[0]["buttons"][0]["payload"] == '/inform_age{"age": "3"}'
    assert events == [SlotSet("age_pending_query", AGE_MATTERS), SlotSet("age_asked", True)]


def test_an_age_button_signposts_the_waiting_need_for_that_age():
    answer = tracker(
        '/inform_age{"age": "3"}',
        "inform_age",
        slots={**ASKED, "age": "3"},  # Rasa fills the slot from the button's entity
        entities=[{"entity": "age", "value": "3"}],
    )
    messages, events = run(ActionSignpost(), answer)
    under_five = ["send_team", "family_information_service", "sendiass"]
    assert messages[0]["custom"]["signpost"] == under_five
    assert events == [
        SlotSet("age_pending_query", None),
        SlotSet("privacy_notice_shown", True),
        SlotSet("last_query", AGE_MATTERS),
        SlotSet("shown_keys", under_five),
    ]


def test_the_not_sure_button_signposts_the_waiting_need_for_any_age():
    messages, events = run(ActionSignpost(), tracker("/inform_age", "inform_age", slots=ASKED))
    assert messages[0]["custom"]["signpost"] == ["senco", "lsat"]
    assert events[0] == SlotSet("age_pending_query", None)
    assert all(e["name"] != "age" for e in events)


def test_a_typed_age_answers_the_question_and_is_remembered():
    messages, events = run(ActionSignpost(), tracker("shes 21", "nlu_fallback", slots=ASKED))
    assert messages[0]["custom"]["signpost"] == ADULT
    assert events[:3] == [
        SlotSet("speaker", "parent"), SlotSet("age_pending_query", None), SlotSet("age", "21"),
    ]  # fmt: skip


def test_an_answer_without_an_age_signposts_without_asking_again():
    messages, events = run(ActionSignpost(), tracker("not sure", "nlu_fallback", slots=ASKED))
    assert messages[0]["custom"]["signpost"] == ["senco", "lsat"]
    assert events[0] == SlotSet("age_pending_query", None)
    assert SlotSet("age_asked", True) not in events
    assert all(e["name"] != "age" for e in events)


def test_a_new_need_instead_of_an_answer_is_signposted_at_once():
    messages, events = run(
        ActionSignpost(), tracker("who helps with school transport", slots=ASKED)
    )
    assert messages[0]["custom"]["signpost"] == ["travel_assistance"]
    assert events[0] == SlotSet("age_pending_query", None)
    assert SlotSet("last_query", "who helps with school transport") in events


def test_a_need_with_an_age_is_signposted_directly_and_the_age_kept():
    messages, events = run(ActionSignpost(), tracker("my 14 year old needs speech therapy"))
    assert messages[0]["custom"]["signpost"] == ["speech_language_therapy"]
    assert events[:2] == [SlotSet("speaker", "parent"), SlotSet("age", "14")]


def test_a_known_age_is_used_and_never_asked_again():
    messages, events = run(ActionSignpost(), tracker(AGE_MATTERS, slots={"age": "21"}))
    assert messages[0]["custom"]["signpost"] == ADULT
    assert all(e["name"] != "age_pending_query" for e in events)
    messages, _ = run(ActionSignpost(), tracker(AGE_MATTERS, slots={"age_asked": True}))
    assert messages[0]["custom"]["signpost"] == ["senco", "lsat"]


def test_an_age_after_an_answer_signposts_the_same_need_again_for_that_age():
    slots = {"last_query": "need:respite", "shown_keys": ["children_disability_team"]}
    answer = tracker("he's 21", "inform_age", slots=slots)
    messages, events = run(ActionSignpost(), answer)
    assert messages[0]["custom"]["signpost"] == ["short_breaks"]
    assert events[:2] == [SlotSet("speaker", "parent"), SlotSet("age", "21")]


def test_more_options_keep_to_the_age_given():
    slots = {"last_query": "need:respite", "shown_keys": ["short_breaks"], "age": "21"}
    messages, _ = run(ActionMoreOptions(), tracker("more", "more_options", slots))
    assert messages[0]["text"].startswith("I have no more options for that.")


SIGNPOSTED_BED = ["occupational_therapy"]
SIGNPOSTED_HOME = ["children_disability_team"]


def test_a_crisis_read_only_by_the_model_gets_emergency_contacts_then_who_can_help():
    text = "he keeps climbing out of bed at night, we need a special bed to keep him safe"
    messages, events = run(ActionCrisis(), tracker(text, intent="crisis"))
    assert messages[0]["text"].splitlines()[1] == "If someone is in danger right now, call 999."
    assert messages[1]["custom"]["signpost"] == SIGNPOSTED_BED
    assert events == [
        ActiveLoop(None),
        SlotSet("safeguarding", ["general"]),
        SlotSet("safeguarding_asked", False),
    ]


def test_a_crisis_the_safety_patterns_see_gets_the_emergency_contacts_alone():
    messages, _ = run(ActionCrisis(), tracker("my dad hits me and i need a wheelchair ramp"))
    assert len(messages) == 1 and "call 999" in messages[0]["text"]


def test_a_crisis_that_asks_who_helps_gets_the_emergency_contacts_then_the_answer():
    text = "how do i get my son referred to camhs, he has been cutting himself"
    messages, events = run(ActionCrisis(), tracker(text, intent="crisis"))
    assert messages[0]["text"].splitlines()[1] == "If someone is in danger right now, call 999."
    assert messages[1]["custom"]["signpost"] == [
        "emotional_wellbeing_panel", "mental_health_support_teams",
    ]  # fmt: skip
    assert SlotSet("safeguarding", ["self_harm"]) in events
    # a parent telling it, without a question, gets the same
    told = "my daughter is self harming and school have not noticed"
    messages, _ = run(ActionCrisis(), tracker(told, intent="crisis"))
    assert messages[1]["custom"]["signpost"][0] == "emotional_wellbeing_panel"


def test_who_helps_follows_a_flag_from_the_learned_part_a_question_or_a_parent():
    learned = SafetyCheck(True, ("staff_harm: learned 0.99",), "staff_harm", ("staff_harm",))
    pattern = SafetyCheck(True, ("physical_abuse: pattern",), "physical_abuse", ("physical_abuse",))
    overruled = SafetyCheck(
        True, ("neglect: pattern overruled, learned 0.10", "neglect: learned 0.90"), "neglect"
    )
    assert asks_who_helps("the minibus driver swore at the kids", learned)
    assert asks_who_helps("a neighbour leaves her kids alone all night", overruled)
    assert not asks_who_helps("my dad hits me", pattern)
    assert asks_who_helps("my dad hits me, who can i tell?", pattern)
    assert asks_who_helps("my son says his dad hits him", pattern)
    assert asks_who_helps("he has bruises and won't tell me who did it", pattern)
    assert not asks_who_helps("he hurts me when mum is out", pattern)


def test_a_long_message_read_as_a_menu_request_is_signposted():
    text = "i am a single mum with three kids and my son has complex needs, i need support at home"
    messages, _ = run(ActionTopicMenu(), tracker(text, intent="help_menu"))
    assert messages[0]["custom"]["signpost"] == SIGNPOSTED_HOME
    menu, _ = run(ActionTopicMenu(), tracker("help", intent="help_menu"))
    assert menu[0]["text"].startswith("What would you like help with?")


def test_an_age_before_any_need_is_kept_and_the_topics_offered():
    messages, events = run(ActionSignpost(), tracker("my son is 7", "inform_age"))
    assert messages[0]["text"] == (
        "Thank you. What do you need help with? Pick a topic, or tell me in your own words."
    )
    assert [b["title"] for b in messages[0]["buttons"]][:2] == [
        "Education, health and care plans", "Extra help at school",
    ]  # fmt: skip
    assert events == [
        SlotSet("speaker", "parent"), SlotSet("age", "7"), SlotSet("privacy_notice_shown", True),
    ]  # fmt: skip
    later, _ = run(ActionSignpost(), tracker("help with reading", slots={"age": "7"}))
    assert later[0]["custom"]["signpost"][0] == "lsat"


def test_a_need_read_as_an_age_is_answered_as_a_need():
    # "nursery" reads as an age to the age question, but the message has a need of its own
    messages, events = run(ActionSignpost(), tracker("sen friendly nursery places", "inform_age"))
    assert messages[0]["custom"]["signpost"][0] == "family_information_service"
    assert all(e.get("name") != "age" for e in events)  # no age was stated


def test_after_an_emergency_reply_secrecy_texting_and_fear_get_their_answers(app_database):
    slots = {"safeguarding": ["physical_abuse"], "safeguarding_asked": False}
    secrecy, events = run(
        ActionSafeguardingFollowup(), tracker("please dont tell anyone he will know", "deny", slots)
    )
    assert "This chat is saved." in secrecy[0]["text"] and "0800 1111" in secrecy[0]["text"]
    assert events == [SlotSet("safeguarding_asked", False)]
    texting, _ = run(
        ActionSafeguardingFollowup(),
        tracker("can i talk to someone by text not phone", "talk_to_someone", slots),
    )
    assert "Text SHOUT to 85258" in texting[0]["text"]
    scared, _ = run(ActionSafeguardingFollowup(), tracker("im scared", "out_of_scope", slots))
    assert scared[0]["text"].splitlines()[0] == "If someone is in danger right now, call 999."


def test_an_unclear_message_gets_a_gentle_check_with_buttons_then_yes_ends_it(app_database):
    slots = {"safeguarding": ["physical_abuse"], "safeguarding_asked": False}
    check, events = run(ActionSafeguardingFollowup(), tracker("ok", "affirm", slots))
    assert "Is everyone safe right now?" in check[0]["text"]
    assert [b["title"] for b in check[0]["buttons"]] == [
        "Yes, safe now", "No, not safe", "Something else",
    ]  # fmt: skip
    assert events == [SlotSet("safeguarding_asked", True)]
    asked = {**slots, "safeguarding_asked": True}
    safe, events = run(ActionSafeguardingFollowup(), tracker("yes", "affirm", asked))
    assert safe[0]["text"].startswith("I am glad you are safe now.")
    assert events == [SlotSet("safeguarding", None), SlotSet("safeguarding_asked", None)]


def test_fear_in_a_follow_up_gets_999_not_a_category_the_learned_part_guessed(app_database):
    text = "hes coming up the stairs"
    check = check_message(text)  # what this test is about: a guess, not a pattern
    assert check.crisis and check.category != "physical_abuse"
    assert not any(reason.endswith(": pattern") for reason in check.reasons)
    slots = {"safeguarding": ["physical_abuse"], "safeguarding_asked": False}
    messages, events = run(ActionSafeguardingFollowup(), tracker(text, "out_of_scope", slots))
    lines = messages[0]["text"].splitlines()
    assert lines[0] == "If someone is in danger right now, call 999."
    assert "press 55" in lines[1] and not any("ambulance" in line for line in lines)
    assert events == [SlotSet("safeguarding_asked", False)]
    with session_scope(app_database) as session:  # flagged all the same
        assert [f.category for f in session.scalars(select(SafetyFlagRow))] == [check.category]


def test_a_new_kind_of_harm_in_the_conversation_gets_its_own_help_and_flag(app_database):
    slots = {"safeguarding": ["physical_abuse"], "safeguarding_asked": False}
    messages, events = run(
        ActionSafeguardingFollowup(),
        tracker("I want to kill myself", "crisis", slots, sender="s-9"),
    )
    assert "Samaritans" in messages[0]["text"]
    assert events == [
        SlotSet("safeguarding", ["physical_abuse", "suicidal"]),
        SlotSet("safeguarding_asked", False),
    ]
    with session_scope(app_database) as session:
        assert [f.category for f in session.scalars(select(SafetyFlagRow))] == ["suicidal"]
