"""Small helpers shared by actions: the standard offer, the topic menu, and the privacy note."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.directory.topics import MENU_TOPICS

PRIVACY_NOTE = 'We keep chats for 180 days. Say "privacy" to learn more.'

OFFER_BUTTONS: list[dict[str, str]] = [
    {"title": "More options", "payload": "/more_options"},
    {"title": "Talk to someone", "payload": "/talk_to_someone"},
    {"title": "Give feedback", "payload": "/give_feedback"},
]


def privacy_note(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Send the short privacy note once per conversation; return the event that records it."""
    if tracker.get_slot("privacy_notice_shown"):
        return []
    dispatcher.utter_message(text=PRIVACY_NOTE)
    return [SlotSet("privacy_notice_shown", True)]


def menu_buttons() -> list[dict[str, str]]:
    """A button for each main topic; its payload asks for that need directly."""
    directory = services.catalog().directory
    buttons = []
    for key in MENU_TOPICS:
        need = directory.need(key)
        if need is not None:
            payload = "/ask_signpost" + json.dumps({"need": key})
            buttons.append({"title": need.label, "payload": payload})
    return buttons
