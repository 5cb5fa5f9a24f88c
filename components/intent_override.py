"""The shared step of the NLU components that overrule the model: a rule in ``bot/`` reads
the text, and when it says so the message gets that intent with full confidence."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


class IntentOverride(GraphComponent):
    """Runs after the classifiers; a subclass says which intent, if any, a message must have."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentOverride:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def intent_for(self, message: Message) -> str | None:
        """The intent ``message`` must have, or None to keep what the model predicted."""
        raise NotImplementedError

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            name = self.intent_for(message)
            if name is None:
                continue
            chosen = {"name": name, "confidence": 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r["name"] != name]
            message.set(INTENT, chosen, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
        return messages
