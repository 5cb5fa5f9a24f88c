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
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.safety import check_message, warm_up
from bot.safety.categories import load_catalogue
from components.intent_override import IntentOverride

log = logging.getLogger(__name__)
CRISIS_INTENT = "crisis"
# The learned crisis probability below which the language model alone cannot call a crisis.
MODEL_CRISIS_FLOOR = 0.7
FALLBACK_INTENT = "nlu_fallback"
# The FallbackClassifier's threshold in config.yml: below it the model's intent is a guess.
FALLBACK_THRESHOLD = 0.45


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

    def process(self, messages: list[Message]) -> list[Message]:
        """The detector decides: a crisis it sees becomes `crisis`; a `crisis` the language
        model alone predicted stands only if the detector's learned part leans that way
        too (the 27 crisis examples of the NLU data read look-alikes as crises), and never
        beside words of distance (a course, the past, "he's fine now"), where the detector
        itself asks its learned part to be nearly sure."""
        for message in messages:
            predicted = (message.get(INTENT) or {}).get("name")
            if predicted == CRISIS_INTENT and self.intent_for(message) is None:
                text = message.get(TEXT) or ""
                if load_catalogue().distanced(text) or check_message(text).score < (
                    MODEL_CRISIS_FLOOR
                ):
                    self.demote(message)
        return super().process(messages)

    @staticmethod
    def demote(message: Message) -> None:
        """Give the message the model's next most likely intent instead of `crisis`, or
        `nlu_fallback` (the directory search, then the topic menu) when the model is no
        surer of that intent than the FallbackClassifier would accept: a worried message
        the model read as a crisis is seldom a question about opening hours."""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r["name"] != CRISIS_INTENT]
        chosen = ranking[0] if ranking else {"name": FALLBACK_INTENT, "confidence": 1.0}
        if chosen["confidence"] < FALLBACK_THRESHOLD:  # as the FallbackClassifier ranks it
            chosen = {"name": FALLBACK_INTENT, "confidence": FALLBACK_THRESHOLD}
            ranking = [chosen, *(r for r in ranking if r["name"] != FALLBACK_INTENT)]
        log.info("safety override: the model's crisis was not confirmed; %s", chosen["name"])
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
