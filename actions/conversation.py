"""Greeting and the numbered topic menu."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.common import privacy_note
from bot.directory.topics import MENU_TOPICS

GREETING = (
    "Hello. I help families find support for children with special needs or "
    "disabilities (SEND). Tell me what you need, in your own words."
)


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
        """Offer the main topics as a short numbered menu."""
        dispatcher.utter_message(
            text="What would you like help with? Pick a topic, or tell me in your own words.",
            buttons=menu_buttons(),
        )
        return []
