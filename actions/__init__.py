"""Rasa SDK actions: thin adapters that turn tracker values into calls on bot/."""

from actions.cases import ActionCaseStatus, ActionCreateCase, ActionRaiseIssue
from actions.conversation import ActionGreet, ActionTopicMenu
from actions.feedback import (
    ActionAskFeedbackService,
    ActionCancelFeedback,
    ActionStartFeedback,
    ActionSubmitFeedback,
    ActionWhatChanged,
    ValidateFeedbackForm,
)
from actions.kinds import ActionComplain, ActionPraise, ActionTurnedDown
from actions.listen import ActionReadAloud, ActionTextOnly
from actions.privacy import ActionConfirmDelete, ActionDeleteMyData
from actions.reach import (
    ActionContactRoute,
    ActionCreateCallBack,
    ActionExplainTerm,
    ActionOfferCallBack,
    ActionOpeningHours,
    ActionOtherLanguage,
)
from actions.safety import ActionCrisis
from actions.signpost import ActionMoreOptions, ActionSignpost, ActionTalkToSomeone

__all__ = [
    "ActionComplain",
    "ActionContactRoute",
    "ActionCreateCallBack",
    "ActionExplainTerm",
    "ActionOfferCallBack",
    "ActionOpeningHours",
    "ActionOtherLanguage",
    "ActionPraise",
    "ActionStartFeedback",
    "ActionTurnedDown",
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
