"""Rasa SDK actions: thin adapters that turn tracker values into calls on bot/."""

from actions import services
from actions.cases import ActionCaseStatus, ActionCreateCase, ActionRaiseIssue
from actions.conversation import ActionGreet, ActionTopicMenu
from actions.feedback import (
    ActionAskFeedbackService,
    ActionCancelFeedback,
    ActionSubmitFeedback,
    ActionWhatChanged,
    ValidateFeedbackForm,
)
from actions.listen import ActionReadAloud, ActionTextOnly
from actions.privacy import ActionConfirmDelete, ActionDeleteMyData
from actions.safety import ActionCrisis
from actions.signpost import ActionMoreOptions, ActionSignpost, ActionTalkToSomeone

__all__ = [
    "ActionCaseStatus",
    "ActionCreateCase",
    "ActionRaiseIssue",
    "ActionReadAloud",
    "ActionAskFeedbackService",
    "ActionCancelFeedback",
    "ActionConfirmDelete",
    "ActionCrisis",
    "ActionDeleteMyData",
    "ActionGreet",
    "ActionMoreOptions",
    "ActionSignpost",
    "ActionSubmitFeedback",
    "ActionTalkToSomeone",
    "ActionTextOnly",
    "ActionTopicMenu",
    "ActionWhatChanged",
    "ValidateFeedbackForm",
]

# The action server imports this package before it starts answering: build the directory
# catalog now, so the first family's message does not wait for it (DIRECTORY_WARM_UP=0
# turns this off, as the tests do).
services.warm_up()
