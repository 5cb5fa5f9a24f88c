"""Rasa SDK actions: thin adapters that turn tracker values into calls on bot/."""

from actions.conversation import ActionGreet, ActionTopicMenu
from actions.feedback import (
    ActionAskFeedbackService,
    ActionCancelFeedback,
    ActionSubmitFeedback,
    ValidateFeedbackForm,
)
from actions.privacy import ActionConfirmDelete, ActionDeleteMyData
from actions.safety import ActionCrisis
from actions.signpost import ActionMoreOptions, ActionSignpost, ActionTalkToSomeone

__all__ = [
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
    "ActionTopicMenu",
    "ValidateFeedbackForm",
]
