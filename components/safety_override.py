"""A Rasa NLU component that turns any message suggesting risk into the `crisis` intent.

It runs after the classifiers on every message from every channel, so the emergency
reply does not depend on what the model predicts. The detection itself (patterns and a
learned part, see data/safety/categories.yml) is bot.safety.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.safety import check_message, warm_up
from components.intent_override import IntentOverride

log = logging.getLogger(__name__)
CRISIS_INTENT = "crisis"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyOverride(IntentOverride):
    """Sets intent `crisis` with full confidence when bot.safety detects risk."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyOverride:
        warm_up()  # the patterns and the learned model load with the server, not on a message
        return cls()

    def intent_for(self, message: Message) -> str | None:
        verdict = check_message(message.get(TEXT) or "")
        if not verdict.crisis:
            return None
        predicted = (message.get(INTENT) or {}).get("name")
        if predicted != CRISIS_INTENT:
            log.warning("safety override: %s (model said %s)", verdict.reasons, predicted)
        return CRISIS_INTENT
