"""A Rasa NLU component that turns any message suggesting risk into the `crisis` intent.

It runs after the classifiers on every message from every channel, so the emergency
reply does not depend on what the model predicts. The detection itself is bot.safety.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.safety import check_message

log = logging.getLogger(__name__)
CRISIS_INTENT = "crisis"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyOverride(GraphComponent):
    """Sets intent `crisis` with full confidence when bot.safety detects risk."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SafetyOverride:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            verdict = check_message(message.get(TEXT) or "")
            if not verdict.crisis:
                continue
            predicted = (message.get(INTENT) or {}).get("name")
            if predicted != CRISIS_INTENT:
                log.warning("safety override: %s (model said %s)", verdict.reasons, predicted)
            crisis = {"name": CRISIS_INTENT, "confidence": 1.0}
            ranking = [
                r for r in message.get(INTENT_RANKING_KEY) or [] if r["name"] != CRISIS_INTENT
            ]
            message.set(INTENT, crisis, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [crisis, *ranking], add_to_output=True)
        return messages
