"""A Rasa NLU component that turns any message suggesting risk into the `crisis` intent.

It runs after the classifiers on every message from every channel, so the emergency
reply does not depend on what the model predicts. The detection itself is bot.safety.
"""

from __future__ import annotations

import logging

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.safety import check_message
from components.intent_override import IntentOverride

log = logging.getLogger(__name__)
CRISIS_INTENT = "crisis"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyOverride(IntentOverride):
    """Sets intent `crisis` with full confidence when bot.safety detects risk."""

    def intent_for(self, message: Message) -> str | None:
        verdict = check_message(message.get(TEXT) or "")
        if not verdict.crisis:
            return None
        predicted = (message.get(INTENT) or {}).get("name")
        if predicted != CRISIS_INTENT:
            log.warning("safety override: %s (model said %s)", verdict.reasons, predicted)
        return CRISIS_INTENT
