"""Small helpers shared by actions: the standard offer, and the first-reply privacy note."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

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
