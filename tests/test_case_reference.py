"""The NLU step that reads a quoted case reference as a question about that case."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.case_reference import CaseReferenceIntent


def parsed(text: str, intent: str = "nlu_fallback") -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": 0.45}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 0.45}], add_to_output=True)
    return CaseReferenceIntent().process([message])[0]


def test_a_quoted_reference_is_a_question_about_the_case():
    message = parsed("whats happening with tw fjn63h")
    assert message.get(INTENT) == {"name": "case_status", "confidence": 1.0}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["case_status", "nlu_fallback"]


def test_messages_without_a_reference_and_button_payloads_are_left_alone():
    for text in ("who helps with school transport", "tw telford council", "/affirm TW-FJN63H"):
        assert parsed(text, "ask_signpost").get(INTENT)["name"] == "ask_signpost"
