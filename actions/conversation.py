"""Greeting and the numbered topic menu."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import menu_buttons, privacy_note
from actions.signpost import ActionSignpost, find_entries

NEED_WORDS = 8  # a menu request is short: "help", "menu", "what can i ask about"
GREETING = (
    "Hello. I help families find support for children with special needs or "
    "disabilities (SEND). Tell me what you need, in your own words."
)


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Say hello, with the privacy note the first time."""
        dispatcher.utter_message(text=GREETING)
        return privacy_note(dispatcher, tracker)


class ActionTopicMenu(Action):
    def name(self) -> str:
        return "action_topic_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Offer the main topics as a short numbered menu; a longer message that names a need
        ("i need some help at home, she has complex needs") is signposted instead."""
        text = tracker.latest_message.get("text") or ""
        long_enough = len(text.split()) >= NEED_WORDS and not text.startswith("/")
        if long_enough and find_entries(text):
            return await ActionSignpost().run(dispatcher, tracker, domain)
        dispatcher.utter_message(
            text="What would you like help with? Pick a topic, or tell me in your own words.",
            buttons=menu_buttons(),
        )
        return []
