"""Rasa SDK actions: thin adapters that turn tracker values into calls on bot/."""

from actions import services
from actions.cases import ActionCaseStatus, ActionCreateCase, ActionRaiseIssue
from actions.conversation import ActionGreet, ActionTopicMenu
from actions.directory_feedback import ActionDirectoryFeedback
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
from actions.safety import ActionCrisis, ActionSafeguardingFollowup
from actions.signpost import ActionMoreOptions, ActionSignpost, ActionTalkToSomeone

__all__ = [
    "ActionDirectoryFeedback",
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
    "ActionSafeguardingFollowup",
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
