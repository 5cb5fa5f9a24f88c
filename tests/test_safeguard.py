"""The safeguarding step the channels share, the conversation after an emergency reply, the
learned part's cache and the policy that keeps a person in the safeguarding conversation."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.notify.outbox import OutboxRow
from bot.safeguard import crisis_fallback, local_contacts
from bot.safety import EMERGENCY_LINE, check_message
from bot.safety.categories import parse_catalogue
from bot.safety.followup import (
    CHECK,
    GOODBYE,
    LEAVE,
    SAFE,
    SCARED,
    SECRECY,
    TEXT_ROUTE,
    followup_reply,
    read_followup,
)
from bot.safety.followup_eval import STAYS, evaluate_followups, load_followups
from bot.safety.learned import LearnedDetector, load_or_train
from bot.safety_log import SafetyFlagRow
from components.safeguarding_policy import FOLLOWUP_ACTION, SafeguardingPolicy

CONTACT = "safeguarding@example.org"


def flags(engine):
    with session_scope(engine) as session:
        return [
            (f.conversation_id, f.channel, f.category)
            for f in session.scalars(select(SafetyFlagRow).order_by(SafetyFlagRow.id))
        ]


def emails(engine):
    with session_scope(engine) as session:
        return [row.body for row in session.scalars(select(OutboxRow)) if row.channel == "email"]


def test_a_crisis_gets_its_category_help_a_flag_and_an_email_without_the_words(loaded_engine):
    text = "I feel like taking all my pills"
    reply = crisis_fallback(loaded_engine, "sms-abc", "sms", text, safeguarding_contact=CONTACT)
    assert reply is not None and reply.splitlines()[1] == EMERGENCY_LINE
    assert "116 123" in reply and "NHS 111" in reply
    assert flags(loaded_engine) == [("sms-abc", "sms", "overdose_poisoning")]
    (body,) = emails(loaded_engine)
    assert "Category: overdose_poisoning." in body and "/flags/" in body
    assert "sms-abc" not in body  # only a link: the lead reads the conversation in the console
    assert "pills" not in body and "taking" not in body


def test_an_ordinary_message_gets_nothing_and_no_flag(loaded_engine):
    assert crisis_fallback(loaded_engine, "sms-abc", "sms", "who helps with transport") is None
    assert flags(loaded_engine) == []


def test_many_crisis_messages_in_a_day_make_one_email_per_category(loaded_engine):
    for text in ("my dad hits me", "he hit me again", "I want to kill myself"):
        crisis_fallback(loaded_engine, "tg-1", "telegram", text, safeguarding_contact=CONTACT)
    assert [c for *_, c in flags(loaded_engine)] == [
        "physical_abuse", "physical_abuse", "suicidal",
    ]  # fmt: skip
    assert len(emails(loaded_engine)) == 2


def test_staff_harm_names_the_lado_read_straight_from_the_directory(loaded_engine):
    contacts = local_contacts(loaded_engine)
    assert (contacts.front_door.name, contacts.lado.phone) == ("Family Connect", "01632 960151")
    reply = crisis_fallback(loaded_engine, "voice-1", "voice", "a carer at his respite hit him")
    assert "LADO" in reply and "01632 960151 (sample number)" in reply


def test_with_the_database_down_the_national_numbers_still_go_out(tmp_path):
    from bot.db import make_engine

    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    reply = crisis_fallback(broken, "sms-x", "sms", "my son is not breathing")
    assert reply is not None and "ambulance" in reply and "Family Connect" not in reply


def test_with_no_engine_at_all_a_crisis_gets_help_and_the_log_keeps_its_category(caplog):
    """The process began while the database was down (the SMS, Telegram and phone line
    fallbacks pass no engine): the national numbers, no flag, and why in the log."""
    with caplog.at_level(logging.WARNING):
        reply = crisis_fallback(None, "voice-x", "voice", "i took all my mums tablets")
        nothing = crisis_fallback(None, "voice-x", "voice", "who helps with transport")
    assert reply is not None and reply.splitlines()[1] == EMERGENCY_LINE and "116 123" in reply
    assert "Family Connect" not in reply and nothing is None
    assert caplog.messages == [
        "safeguard: overdose_poisoning crisis on voice answered by the channel; "
        "no flag could be made (no database)"
    ]


# --- the conversation after the first reply ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent", "kinds"),
    [
        ("please dont tell anyone he will know", None, (SECRECY,)),
        ("can i talk to someone by text not phone", "talk_to_someone", (TEXT_ROUTE,)),
        ("im scared", None, (SCARED,)),
        ("i dont feel safe", None, (SCARED,)),
        ("ok", "affirm", (CHECK,)),
        ("thanks", "thanks", (CHECK,)),
        ("who helps with his ehcp review", "ask_signpost", (LEAVE,)),
        ("I want to ask about something else", "out_of_scope", (LEAVE,)),
        ("We are safe now", None, (SAFE,)),
        ("bye", "goodbye", (GOODBYE,)),
    ],
)
def test_what_a_message_after_an_emergency_reply_asks_for(text, intent, kinds):
    assert read_followup(text, intent, 0.95).kinds == kinds


def test_a_yes_or_no_answers_are_you_safe():
    assert read_followup("yes", "affirm", 0.9, asked_if_safe=True).kinds == (SAFE,)
    assert read_followup("no", "deny", 0.9, asked_if_safe=True).kinds == (SCARED,)


def test_an_unsure_model_or_a_worried_message_never_leaves_the_conversation():
    assert read_followup("who helps with his ehcp review", "ask_signpost", 0.5).kinds == (CHECK,)
    assert read_followup("he is coming home soon", "ask_signpost", 0.99).kinds == (SCARED,)
    assert read_followup("my dad hit me again", "ask_signpost", 0.99, crisis=True).kinds == (CHECK,)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("hes got a knife in the kitchen", (SCARED,)),
        ("they keep hitting my brother", (SCARED,)),
        ("hes still downstairs", (SCARED,)),
        ("will my school find out", (SECRECY,)),
        ("are they going to take my daughter away", (SECRECY,)),
        ("is somebody reading this", (SECRECY,)),
        ("how much does shout cost", (TEXT_ROUTE,)),
        ("phone calls are hard for me", (TEXT_ROUTE,)),
        ("the ambulance has arrived", (SAFE,)),
        ("we got out, at my nans now", (SAFE,)),
        ("police are here but hes still shouting", (SCARED, SECRECY)),
        ("i havent called the police", (SECRECY,)),  # not safe: no help has come
        ("is it safe now?", (CHECK,)),  # a question, not an answer
        ("i cant get out", (CHECK,)),
        ("end chat", (GOODBYE,)),
        ("gotta go now bye", (GOODBYE,)),
    ],
)
def test_follow_ups_in_the_words_people_use(text, kinds):
    assert read_followup(text).kinds == kinds


def test_no_development_follow_up_ends_the_safeguarding_conversation_too_soon():
    """The development set of follow-ups (an independent writer's, tuned on): fear, secrecy
    and wanting to text are each answered as such, and nothing but "safe" or "bye" ends
    the conversation. The few "safe" and "bye" messages not ended are ones the detector
    reads as a crisis: they get the gentle check and 999, never a wrong ending."""
    dev = PROJECT_ROOT / "tests" / "data" / "safety_followups_dev.yml"
    tallies = evaluate_followups(load_followups(dev))
    assert sum(t.ended_too_soon for t in tallies.values()) == 0
    assert [t.wrong for k, t in tallies.items() if k in STAYS] == [[], [], [], []]
    for kind in ("safe", "goodbye"):
        assert all(wrong.endswith("->  check") for wrong in tallies[kind].wrong)
        assert all(check_message(w.split("  ->")[0]).crisis for w in tallies[kind].wrong)


def test_the_replies_are_kind_honest_and_give_a_route():
    secrecy, _ = followup_reply(read_followup("dont tell anyone"))
    assert "This chat is saved." in secrecy and "0800 1111" in secrecy and "999" in secrecy
    texting, _ = followup_reply(read_followup("can i text someone"))
    assert "Text SHOUT to 85258" in texting and "childline.org.uk" in texting
    scared, _ = followup_reply(read_followup("im scared"))
    assert scared.splitlines()[0] == EMERGENCY_LINE and "press 55" in scared
    check, asks = followup_reply(read_followup("ok"))
    assert asks and check.splitlines()[:2] == [
        "I am still here for you. Is everyone safe right now?", EMERGENCY_LINE,
    ]  # fmt: skip
    crisis_check, _ = followup_reply(read_followup("he hit me", crisis=True), crisis=True)
    assert crisis_check.splitlines()[:2] == [
        EMERGENCY_LINE, "I am still here for you. Is everyone safe right now?",
    ]  # fmt: skip
    texting, _ = followup_reply(read_followup("how much does shout cost"))
    assert "Calls to 999 and Childline are free from any phone." in texting


# --- the learned part -------------------------------------------------------------------


def test_the_learned_part_is_trained_once_then_loaded_from_its_cache(tmp_path):
    keys = [
        "physical_abuse", "emotional_abuse", "sexual_abuse", "neglect",
        "sexual_exploitation_grooming", "image_abuse", "criminal_exploitation",
        "forced_marriage_fgm_honour", "domestic_abuse", "self_harm", "suicidal",
        "overdose_poisoning", "medical_emergency", "missing_child", "staff_harm",
        "radicalisation", "bullying_harm",
    ]  # fmt: skip
    data = {
        "helplines": {"samaritans": {"text": "Samaritans 116 123", "source": "https://x.example"}},
        "categories": {
            key: {
                "help": ["samaritans"],
                "patterns": [r"\bnever matches anything\b"],
                "examples": [f"{key} example one", f"{key} example two"],
                "lookalikes": [f"ordinary {key} question"],
            }
            for key in keys
        },
    }
    catalogue = parse_catalogue(data)
    ordinary = ["who helps with school transport", "where is the send team"]
    first = load_or_train(catalogue, ordinary, cache_dir=tmp_path, development=())
    (cached,) = tmp_path.glob("safety-learned-*.joblib")
    (vectors,) = tmp_path.glob("safety-embeddings-*.joblib")  # the training text's embeddings
    stamp, vectors_stamp = cached.stat().st_mtime_ns, vectors.stat().st_mtime_ns
    second = load_or_train(catalogue, ordinary, cache_dir=tmp_path, development=())
    assert isinstance(second, LearnedDetector) and cached.stat().st_mtime_ns == stamp
    assert vectors.stat().st_mtime_ns == vectors_stamp
    assert first.category("suicidal example one") == second.category("suicidal example one")
    assert first.crisis_score("suicidal example one") == second.crisis_score("suicidal example one")


# --- the policy that keeps the conversation going ---------------------------------------


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture
def policy(tmp_path) -> SafeguardingPolicy:
    return SafeguardingPolicy.create(
        SafeguardingPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("safeguarding_policy"),
        ExecutionContext(GraphSchema({})),
    )


def _tracker(domain, text, intent, confidence=0.95, slots=None):
    events = [SlotSet(k, v) for k, v in (slots or {}).items()]
    events += [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(text, {"name": intent, "confidence": confidence}),
    ]
    return DialogueStateTracker.from_events("someone", events, domain.slots)


def test_in_a_safeguarding_conversation_every_turn_goes_to_the_follow_up(policy, domain):
    tracker = _tracker(domain, "can i talk to someone by text", "talk_to_someone",
                       slots={"safeguarding": ["physical_abuse"]})  # fmt: skip
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert domain.action_names_or_texts[prediction.max_confidence_index] == FOLLOWUP_ACTION
    assert prediction.max_confidence == 1.0 and prediction.policy_priority == 7


def test_a_clear_new_question_leaves_the_conversation_to_the_ordinary_rules(policy, domain):
    tracker = _tracker(domain, "who helps with his ehcp review", "ask_signpost",
                       slots={"safeguarding": ["physical_abuse"]})  # fmt: skip
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert prediction.max_confidence == 0.0
    assert prediction.events == [SlotSet("safeguarding", None), SlotSet("safeguarding_asked", None)]


def test_outside_a_safeguarding_conversation_the_policy_stays_out(policy, domain):
    tracker = _tracker(domain, "who helps with his ehcp review", "ask_signpost")
    assert policy.predict_action_probabilities(tracker, domain).max_confidence == 0.0


def test_flags_keep_their_category_and_time(loaded_engine):
    crisis_fallback(loaded_engine, "web-1", "webchat", "my 15 year old has been missing for 2 days")
    with session_scope(loaded_engine) as session:
        flag = session.scalars(select(SafetyFlagRow)).one()
        assert flag.category == "missing_child"
        assert flag.created_at.replace(tzinfo=timezone.utc) <= datetime.now(timezone.utc)


def test_after_the_follow_up_the_turn_ends_even_when_the_conversation_closed(policy, domain):
    events = [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("we are safe now", {"name": "goodbye", "confidence": 0.9}),
        ActionExecuted(FOLLOWUP_ACTION),
        SlotSet("safeguarding", None),
    ]
    tracker = DialogueStateTracker.from_events("someone", events, domain.slots)
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert domain.action_names_or_texts[prediction.max_confidence_index] == ACTION_LISTEN_NAME
