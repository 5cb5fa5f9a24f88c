"""'The number for X is wrong': a family's report about the Who's Who becomes feedback."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.publish.corrections import ANOTHER, ASK_WHICH, record_report, resolve, thanks
from bot.text import clean_input

log = logging.getLogger(__name__)
ENTITY = "directory_entry"  # carried by the "which one?" buttons
TEXT_SLOT = "directory_error_text"  # what they said, while they choose
INTENT = "/report_directory_error"
SORRY = "Sorry, I could not pass that on just now. Please try again later."


def _button(title: str, key: str) -> dict[str, str]:
    return {"title": title, "payload": f"{INTENT}{json.dumps({ENTITY: key})}"}


class ActionDirectoryFeedback(Action):
    def name(self) -> str:
        return "action_directory_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Keep the report as feedback about the entry meant; ask which one when several
        were just shown and none is named (the words wait in a slot meanwhile)."""
        directory = services.catalog().directory
        chosen = next(tracker.get_latest_entity_values(ENTITY), None)
        if chosen is not None:
            text = tracker.get_slot(TEXT_SLOT) or ""
            entry = directory.entry(str(chosen))
        else:
            text, _cut = clean_input(tracker.latest_message.get("text") or "", 1000)
            found = resolve(directory, text, tracker.get_slot("shown_keys") or [])
            if found.entry is None and found.choices:
                buttons = [_button(e.name, e.key) for e in found.choices]
                dispatcher.utter_message(text=ASK_WHICH, buttons=[*buttons, _button(ANOTHER, "")])
                return [SlotSet(TEXT_SLOT, text)]
            entry = found.entry
        try:
            record_report(
                services.engine(),
                channel=tracker.get_latest_input_channel() or "unknown",
                conversation_id=tracker.sender_id,
                turn_id=str(tracker.latest_message.get("message_id") or len(tracker.events)),
                entry=entry,
                text=text,
            )
        except Exception:
            log.exception("directory feedback: could not keep the report")
            dispatcher.utter_message(text=SORRY)
            return [SlotSet(TEXT_SLOT, text)]
        dispatcher.utter_message(text=thanks(entry, text))
        return [SlotSet(TEXT_SLOT, None)]
