"""The rule-based NLU steps, run on real Rasa messages as the pipeline hands them over."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa.shared.nlu.training_data.message import Message

from bot.intent_cues import CUES, lacks_cue
from components.message_cues import (
    GlossaryQuestionIntent,
    KindCueIntent,
    LeaveIntent,
    NarrowIntentCue,
    OtherLanguageIntent,
)

NLU = Path(__file__).resolve().parents[1] / "data" / "nlu"


def predicted(text: str, intent: str) -> Message:
    return Message(data={"text": text, "intent": {"name": intent, "confidence": 0.6},
                         "intent_ranking": [{"name": intent, "confidence": 0.6}]})  # fmt: skip


def intent_after(component, text: str, model_said: str) -> str:
    (message,) = component.process([predicted(text, model_said)])
    return str(message.get("intent")["name"])


def test_leaving_is_only_words_about_leaving():
    leave = LeaveIntent()
    assert intent_after(leave, "exit", "help_menu") == "cancel"
    assert intent_after(leave, "back", "help_menu") == "cancel"
    # an answer to the form that the model took for "cancel" is kept as an answer
    assert intent_after(leave, "quick and clear", "cancel") == "nlu_fallback"
    assert intent_after(leave, "can we stop this now", "cancel") == "cancel"
    assert intent_after(leave, "who helps with transport", "ask_signpost") == "ask_signpost"


def test_kind_cues_overrule_only_the_intents_they_may():
    kinds = KindCueIntent()
    assert intent_after(kinds, "no it's a compliment", "deny") == "praise"
    assert intent_after(kinds, "they refused an ehc needs assessment", "ask_signpost") == (
        "turned_down"
    )
    assert intent_after(kinds, "i want to complain about the send team", "raise_issue") == (
        "complain"
    )
    assert intent_after(kinds, "i want to complain, TW-7K3QXZ", "case_status") == "case_status"
    assert intent_after(kinds, "he said he would kill himself", "crisis") == "crisis"


def test_glossary_and_language_steps():
    assert intent_after(GlossaryQuestionIntent(), "what is an ehcp", "ask_signpost") == (
        "explain_term"
    )
    (message,) = OtherLanguageIntent().process(
        [predicted("Dzień dobry, potrzebuję pomocy dla mojego syna", "ask_signpost")]
    )
    assert message.get("intent")["name"] == "other_language"
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("language", "pl")]
    assert intent_after(OtherLanguageIntent(), "ok ta", "thanks") == "thanks"


def test_a_narrow_intent_needs_a_word_of_its_topic():
    narrow = NarrowIntentCue()
    assert intent_after(narrow, "are they open on saturday", "ask_opening_hours") == (
        "ask_opening_hours"
    )
    assert intent_after(narrow, "she screams every night and never sleeps", "goodbye") == (
        "nlu_fallback"
    )
    assert intent_after(narrow, "night night", "goodbye") == "goodbye"
    assert intent_after(narrow, "ok that's all from me for today, bye", "goodbye") == "goodbye"
    assert intent_after(narrow, "his needs have changed a lot this year", "what_changed") == (
        "nlu_fallback"
    )
    assert intent_after(narrow, "has the council changed anything", "what_changed") == (
        "what_changed"
    )
    assert intent_after(narrow, "i work full time and need childcare", "ask_opening_hours") == (
        "nlu_fallback"
    )
    assert intent_after(narrow, "can we apply without the school", "ask_contact_method") == (
        "nlu_fallback"
    )
    assert intent_after(narrow, "can i email them instead", "ask_contact_method") == (
        "ask_contact_method"
    )
    assert intent_after(narrow, "/goodbye", "goodbye") == "goodbye"  # a button
    assert intent_after(narrow, "she screams every night", "ask_signpost") == "ask_signpost"


def test_every_training_example_of_a_narrow_intent_has_its_cue():
    examples = {
        item["intent"]: [line.strip()[2:] for line in item["examples"].splitlines() if line.strip()]
        for path in NLU.glob("*.yml")
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
        if item.get("intent") in CUES
    }
    assert set(examples) == set(CUES)
    lost = [(name, text) for name, texts in examples.items() for text in texts
            if lacks_cue(name, text)]  # fmt: skip
    assert lost == []
