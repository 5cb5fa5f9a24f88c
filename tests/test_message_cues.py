"""The rule-based NLU steps, run on real Rasa messages as the pipeline hands them over."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from components.message_cues import (
    GlossaryQuestionIntent,
    KindCueIntent,
    LeaveIntent,
    OtherLanguageIntent,
)


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
