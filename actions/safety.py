"""The crisis reply and the safeguarding conversation after it.

``action_crisis``: the category's help first, a flag for staff review, and the
safeguarding conversation starts (slot ``safeguarding`` lists the categories answered).
``action_safeguarding_followup``: each next turn, until the person is safe or moves on
(``components/safeguarding_policy.py`` decides when this action runs).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.signpost import find_entries, show_signpost
from bot.directory.search import asks
from bot.person import about_someone_else
from bot.safeguard import LocalContacts, local_contacts, record_flag, reply_for
from bot.safety import SafetyCheck, check_message, emergency_text
from bot.safety.followup import (
    GOODBYE,
    LEAVE,
    SAFE,
    SAFE_BUTTONS,
    SCARED,
    SECRECY,
    TEXT_ROUTE,
    followup_reply,
    read_followup,
)

log = logging.getLogger(__name__)
SLOT, ASKED = "safeguarding", "safeguarding_asked"


def _contacts() -> LocalContacts:
    try:
        return local_contacts(services.engine())
    except Exception:  # the database is down: the national numbers still go out
        log.exception("crisis reply without local contacts: directory unavailable")
        return LocalContacts()


def _flag(tracker: Tracker, check: SafetyCheck) -> None:
    channel = tracker.get_latest_input_channel() or "unknown"
    try:
        contact = services.settings().safeguarding_contact
        record_flag(services.engine(), tracker.sender_id, channel, check, contact)
    except Exception:
        log.exception("could not record a safety flag for review")


def asks_who_helps(text: str, check: SafetyCheck) -> bool:
    """Whether a message the detector flagged also asks who can help, so that the services
    for its need follow the emergency reply: when only the detector's learned part read a
    crisis (no pattern stands: often a need in worried words, "the minibus driver shouted
    at the kids"), when the message asks ("who do I tell?", "how do I get her referred to
    CAMHS, she's been cutting herself"), or when the writer is worried about someone else
    (a parent about their child, a neighbour about the kids next door). A disclosure of
    one's own ("my dad hits me") gets the emergency reply alone."""
    if not any(reason.endswith(": pattern") for reason in check.reasons):
        return True
    return asks(text) or about_someone_else(text)


class ActionCrisis(Action):
    def name(self) -> str:
        return "action_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send the category's help, record the conversation for staff review, and start
        the safeguarding conversation."""
        text = tracker.latest_message.get("text") or ""
        check = check_message(text)
        contacts = _contacts()
        if check.crisis:
            dispatcher.utter_message(text=reply_for(check, contacts))
            if not text.startswith("/") and asks_who_helps(text, check):
                self.signpost_too(dispatcher, text)
        else:  # only the language model read a crisis: general help, then who can help
            dispatcher.utter_message(text=emergency_text(contacts.front_door))
            check = SafetyCheck(True, ("model",))
            if not text.startswith("/"):
                self.signpost_too(dispatcher, text)
        _flag(tracker, check)
        answered = list(tracker.get_slot(SLOT) or [])
        category = check.category or "general"
        # Whatever was under way (a feedback form) stops: nobody is asked for a rating now.
        return [
            ActiveLoop(None),
            SlotSet(SLOT, [*answered, category] if category not in answered else answered),
            SlotSet(ASKED, False),
        ]

    @staticmethod
    def signpost_too(dispatcher: CollectingDispatcher, text: str) -> None:
        """After the emergency contacts, who can help with the need in the message, when only
        the language model (not the safety detector) read it as a crisis: such a message is
        often a need in worried words ("a safe bed, he climbs out at night")."""
        try:
            entries = find_entries(text)
        except Exception:
            log.exception("crisis reply: the directory is unavailable for signposting")
            return
        if entries:
            show_signpost(dispatcher, entries)


class ActionSafeguardingFollowup(Action):
    def name(self) -> str:
        return "action_safeguarding_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Answer a message sent after an emergency reply: a new kind of harm gets its own
        help; a worry about secrecy, a wish to text, fear or an unclear message gets its
        answer; being safe, goodbye or a new question ends the safeguarding conversation."""
        text = tracker.latest_message.get("text") or ""
        intent = tracker.latest_message.get("intent") or {}
        answered = list(tracker.get_slot(SLOT) or [])
        check = check_message(text)
        followup = read_followup(
            text,
            intent.get("name"),
            float(intent.get("confidence") or 0.0),
            asked_if_safe=bool(tracker.get_slot(ASKED)),
            crisis=check.crisis,
        )
        if check.crisis:
            _flag(tracker, check)
        # A new kind of harm gets its own help, unless only the learned part named it and
        # the words ask for something themselves (fear, secrecy, texting): on a short
        # follow-up its category is a guess ("he's coming up the stairs" read as a medical
        # emergency), and that answer, 999 first, fits. The flag is made either way.
        guessed = not any(reason.endswith(": pattern") for reason in check.reasons)
        asks_itself = followup.kinds[0] in (SCARED, SECRECY, TEXT_ROUTE)
        new_harm = check.crisis and check.category not in answered and not (guessed and asks_itself)
        if new_harm and followup.kinds[:1] not in ((SAFE,), (GOODBYE,)):
            dispatcher.utter_message(text=reply_for(check, _contacts()))
            return [SlotSet(SLOT, [*answered, check.category]), SlotSet(ASKED, False)]
        if followup.ends:
            if followup.kinds[0] != LEAVE:
                dispatcher.utter_message(text=followup_reply(followup)[0])
            else:
                dispatcher.utter_message(text="OK. What would you like to ask about?")
            return [SlotSet(SLOT, None), SlotSet(ASKED, None)]
        reply, asks = followup_reply(followup, crisis=check.crisis)
        buttons = [{"title": t, "payload": p} for t, p in SAFE_BUTTONS] if asks else []
        dispatcher.utter_message(text=reply, buttons=buttons)
        return [SlotSet(ASKED, asks)]
