"""Greeting and the numbered topic menu."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import menu_buttons, privacy_note
from actions.signpost import ActionSignpost, find_entries, speaker_events
from bot.directory import extract_age
from bot.directory.search import MAX_CHILD_AGE
from bot.person import YOUNG_PERSON

NEED_WORDS = 8  # a menu request is short: "help", "menu", "what can i ask about"
GREETING = (
    "Hello. I help children and young people with special needs or disabilities (SEND), "
    "up to age 25, and their families. Tell me what you need, in your own words."
)
YOUNG_GREETING = (
    "Hello. I help young people with special needs or disabilities (SEND) find support, "
    "up to age 25. Tell me what you need, in your own words."
)


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Say hello (to a young person directly, when they write as themselves), with the
        privacy note the first time; an age in the greeting ("hi im 19") is kept."""
        text = tracker.latest_message.get("text") or ""
        if len(text.split()) >= NEED_WORDS and not text.startswith("/") and find_entries(text):
            # a long message read as a greeting is a need with a hello in it
            return await ActionSignpost().run(dispatcher, tracker, domain)
        who = speaker_events(tracker, text)
        young = (who[0]["value"] if who else tracker.get_slot("speaker")) == YOUNG_PERSON
        dispatcher.utter_message(text=YOUNG_GREETING if young else GREETING)
        age = None if text.startswith("/") else extract_age(text)
        kept = [SlotSet("age", str(age))] if age is not None and age <= MAX_CHILD_AGE else []
        return [*who, *kept, *privacy_note(dispatcher, tracker)]


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
