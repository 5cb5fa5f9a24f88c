"""NLU components that read clear cues in the words (rules in ``bot/``) and overrule the
model: a glossary question, a message in another language, and praise, a complaint,
feedback or a "no" (``bot/kinds.py``); and a narrow intent without a word of its topic
(``bot/intent_cues.py``). They run after the classifiers and the case
reference, before the safety override, which always has the last word.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.feedback.parse import is_cancel, wants_to_leave
from bot.glossary import asked_term
from bot.intent_cues import lacks_cue
from bot.kinds import COMPLAINT, FEEDBACK, PRAISE, TURNED_DOWN, kind_cue
from bot.language import detect, warm_up
from components.intent_override import IntentOverride

KIND_INTENTS = {
    PRAISE: "praise",
    COMPLAINT: "complain",
    TURNED_DOWN: "turned_down",
    FEEDBACK: "give_feedback",
}
# What the model may have said when a kind cue is clearer; anything else (a case
# reference, a crisis, privacy, leaving a form, a glossary question) is left alone.
OVERRULABLE = frozenset(
    {"ask_signpost", "raise_issue", "give_feedback", "praise", "complain", "turned_down"}
    | {"nlu_fallback", "thanks", "deny", "affirm", "out_of_scope", "help_menu", "greet"}
    | {"talk_to_someone", "more_options", "what_can_you_do", "goodbye", "inform_age"}
)


def _predicted(message: Message) -> str:
    return str((message.get(INTENT) or {}).get("name") or "")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class KindCueIntent(IntentOverride):
    """Praise, complaint, feedback or turned down, when the words leave no doubt."""

    def intent_for(self, message: Message) -> str | None:
        text = message.get(TEXT) or ""
        if text.startswith("/") or _predicted(message) not in OVERRULABLE:
            return None
        kind = kind_cue(text)
        return KIND_INTENTS.get(kind) if kind else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class GlossaryQuestionIntent(IntentOverride):
    """ "What is an EHCP?", "what does PfA mean", "LADO?": intent `explain_term`."""

    def intent_for(self, message: Message) -> str | None:
        text = message.get(TEXT) or ""
        if _predicted(message) == "case_status":
            return None
        return "explain_term" if asked_term(text) is not None else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class OtherLanguageIntent(IntentOverride):
    """A message we are sure is in another language we answer in: intent `other_language`,
    and the language's code as entity `language` (so the action server need not detect)."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OtherLanguageIntent:
        warm_up()  # as the model loads, not on a family's first message
        return cls()

    def intent_for(self, message: Message) -> str | None:
        language = detect(message.get(TEXT) or "")
        if language is None:
            return None
        text = message.get(TEXT) or ""
        entity = {
            "entity": "language", "value": language.code, "start": 0, "end": len(text),
            "extractor": type(self).__name__,
        }  # fmt: skip
        message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return "other_language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LeaveIntent(IntentOverride):
    """ "exit", "back", "never mind", "forget it" alone: intent `cancel` (leave a form).
    And the other way: the model's `cancel` for words with no sign of leaving ("quick and
    clear", an answer to a form's question) becomes `nlu_fallback`, so no answer is lost."""

    def intent_for(self, message: Message) -> str | None:
        text = message.get(TEXT) or ""
        if is_cancel(text):
            return "cancel"
        if (
            _predicted(message) == "cancel"
            and not text.startswith("/")
            and not wants_to_leave(text)
        ):
            return "nlu_fallback"
        return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NarrowIntentCue(IntentOverride):
    """The model's opening hours, contact routes, "what changed", goodbye or "text only"
    stands only with a word of that topic (``bot/intent_cues.py``); otherwise
    `nlu_fallback`, so the directory search reads a need told in everyday words ("crying
    every night")."""

    def intent_for(self, message: Message) -> str | None:
        return "nlu_fallback" if lacks_cue(_predicted(message), message.get(TEXT) or "") else None
