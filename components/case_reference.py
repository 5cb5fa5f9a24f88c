"""A Rasa NLU component: a message that quotes a case reference ("TW-7K3QXZ") asks about
that case, so its intent is `case_status` whatever the model made of the random letters.

It runs after the classifiers and before the safety override, which has the last word.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.routing.references import find_reference

CASE_STATUS_INTENT = "case_status"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CaseReferenceIntent(GraphComponent):
    """Sets intent `case_status` with full confidence when the text holds a case reference."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CaseReferenceIntent:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or find_reference(text) is None:
                continue
            status = {"name": CASE_STATUS_INTENT, "confidence": 1.0}
            ranking = [
                r for r in message.get(INTENT_RANKING_KEY) or [] if r["name"] != CASE_STATUS_INTENT
            ]
            message.set(INTENT, status, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [status, *ranking], add_to_output=True)
        return messages
