"""A Rasa NLU component: a message that quotes a case reference ("TW-7K3QXZ") asks about
that case, so its intent is `case_status` whatever the model made of the random letters.

It runs after the classifiers and before the safety override, which has the last word.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.routing.references import find_reference
from components.intent_override import IntentOverride

CASE_STATUS_INTENT = "case_status"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CaseReferenceIntent(IntentOverride):
    """Sets intent `case_status` with full confidence when the text holds a case reference."""

    def intent_for(self, message: Message) -> str | None:
        text = message.get(TEXT) or ""
        if text.startswith("/") or find_reference(text) is None:
            return None
        return CASE_STATUS_INTENT
