"""Delete my data: confirm once, then erase the person's records and conversation."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.privacy import erase_person

log = logging.getLogger(__name__)


class ActionConfirmDelete(Action):
    def name(self) -> str:
        return "action_confirm_delete"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Ask once before deleting anything."""
        dispatcher.utter_message(
            text="Do you want me to delete our chat and any details you gave? "
            "This cannot be undone.",
            buttons=[
                {"title": "Yes, delete", "payload": "/affirm"},
                {"title": "No, keep it", "payload": "/deny"},
            ],
        )
        return []


class ActionDeleteMyData(Action):
    def name(self) -> str:
        return "action_delete_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Erase application records now; the tracker store erases the chat history."""
        try:
            removed = erase_person(services.engine(), tracker.sender_id)
        except Exception:
            log.exception("erasure failed: the database is unavailable")
            dispatcher.utter_message(
                text="Sorry, I could not delete your data just now. Nothing was lost. "
                "Please try again later."
            )
            return []
        kept = [name for name, count in removed.items() if count]
        lines = ["Done. I have deleted our chat history."]
        if kept:
            lines.append("I also removed your details from: " + ", ".join(kept) + ".")
        lines.append("Anonymous feedback stays, as it cannot be linked to you.")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("erasure", "done")]
