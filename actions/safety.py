"""The crisis reply: emergency contacts first, and a flag for staff review."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.signpost import find_entries, show_signpost
from bot.notify.outbox import enqueue
from bot.safety import check_message, emergency_text
from bot.safety_log import flag_conversation

log = logging.getLogger(__name__)


class ActionCrisis(Action):
    def name(self) -> str:
        return "action_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send emergency contacts, then record the conversation for staff review."""
        try:
            front_door = services.front_door()  # a direct read: never waits on the catalog
        except Exception:  # the database is down: the emergency numbers still go out
            log.exception("crisis reply without the local front door: directory unavailable")
            front_door = None
        dispatcher.utter_message(text=emergency_text(front_door))
        text = tracker.latest_message.get("text") or ""
        reasons = check_message(text).reasons or ("model",)
        if reasons == ("model",) and not text.startswith("/"):
            self.signpost_too(dispatcher, text)
        channel = tracker.get_latest_input_channel() or "unknown"
        try:
            flag_id = flag_conversation(services.engine(), tracker.sender_id, channel, reasons)
            contact = services.settings().safeguarding_contact
            if contact:  # no message text: staff read the conversation in the tracker store
                enqueue(
                    services.engine(),
                    "email",
                    contact,
                    f"Safety flag {flag_id}: a {channel} conversation needs review now.\n"
                    f"Reason: {', '.join(reasons)}.\nConversation id: {tracker.sender_id}",
                    dedupe_key=f"safety-flag:{flag_id}",
                )
        except Exception:
            log.exception("could not record or send a safety flag for review")
        # Whatever was under way (a feedback form) stops: nobody is asked for a rating now.
        return [ActiveLoop(None)]

    @staticmethod
    def signpost_too(dispatcher: CollectingDispatcher, text: str) -> None:
        """After the emergency contacts, who can help with the need in the message, when only
        the language model (not the safety patterns) read it as a crisis: such a message is
        often a need in worried words ("a safe bed, he climbs out at night")."""
        try:
            entries = find_entries(text)
        except Exception:
            log.exception("crisis reply: the directory is unavailable for signposting")
            return
        if entries:
            show_signpost(dispatcher, entries)
