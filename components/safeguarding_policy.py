"""A Rasa policy that keeps a person in the safeguarding conversation after an emergency reply.

While slot ``safeguarding`` is set (``action_crisis`` sets it), every next message goes to
``action_safeguarding_followup``, whatever intent the model predicted, so a child who has
just said they are being hurt never gets a topic menu, a case offer or a feedback form.
When the person clearly asks about something else (``bot.safety.followup``), the policy
clears the slots and stays out of the way, and the ordinary rules answer the question.
Its priority is above the RulePolicy's (6), so it wins at equal confidence.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.safety import check_message
from bot.safety.followup import LEAVE, read_followup

FOLLOWUP_ACTION = "action_safeguarding_followup"
SLOT, ASKED = "safeguarding", "safeguarding_asked"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class SafeguardingPolicy(Policy):
    """Predicts the safeguarding follow-up while a safeguarding conversation is open."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7}

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource  # nothing to learn: the rule is in bot.safety.followup

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if tracker.latest_action_name == FOLLOWUP_ACTION:  # its reply is the whole turn
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            return self._prediction(probabilities)
        if not tracker.get_slot(SLOT) or tracker.latest_action_name != ACTION_LISTEN_NAME:
            return self._prediction(probabilities)
        message = tracker.latest_message
        intent = (message.intent or {}) if message else {}
        text = (message.text or "") if message else ""
        followup = read_followup(
            text,
            intent.get("name"),
            float(intent.get("confidence") or 0.0),
            asked_if_safe=bool(tracker.get_slot(ASKED)),
            crisis=bool(text) and check_message(text).crisis,
        )
        if followup.kinds[:1] == (LEAVE,):
            # The person moved on: the ordinary dialogue answers the new question.
            return self._prediction(
                probabilities, events=[SlotSet(SLOT, None), SlotSet(ASKED, None)]
            )
        probabilities[domain.index_for_action(FOLLOWUP_ACTION)] = 1.0
        return self._prediction(probabilities)
