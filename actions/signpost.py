"""Signposting: who can help with a need, more options, and talking to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.common import OFFER_BUTTONS, privacy_note
from actions.conversation import menu_buttons
from bot.directory import Entry
from bot.directory.render import contact_sentence, signpost_sms, signpost_text
from bot.text import clean_input

NEED_PREFIX = "need:"
MAX_INPUT = 2000
LONG_NOTE = "Your message was long, so I read the first part."
TALK_TO_KEYS = ("local_offer", "sendiass")


def _find(query: str, exclude: tuple[str, ...] = ()) -> list[Entry]:
    """Entries for a query: a need key from a menu button, or the family's own words."""
    catalog = services.catalog()
    if query.startswith(NEED_PREFIX):
        helping = catalog.directory.for_need(query.removeprefix(NEED_PREFIX))
        return [e for e in helping if e.key not in exclude][:3]
    return [m.entry for m in catalog.search(query, exclude=exclude)]


def _signpost(
    dispatcher: CollectingDispatcher, entries: list[Entry], first_number: int = 1
) -> None:
    dispatcher.utter_message(
        text=signpost_text(entries, first_number),
        buttons=OFFER_BUTTONS,
        json_message={
            "signpost": [e.key for e in entries],
            "sms": signpost_sms(entries, first_number),
        },
    )


class ActionSignpost(Action):
    def name(self) -> str:
        return "action_signpost"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Name the one to three entries that can help; if none, offer the topic menu."""
        need = next(tracker.get_latest_entity_values("need"), None)
        text, cut = clean_input(tracker.latest_message.get("text") or "", MAX_INPUT)
        if cut:
            dispatcher.utter_message(text=LONG_NOTE)
        query = f"{NEED_PREFIX}{need}" if need else text
        entries = _find(query)
        if not entries:
            dispatcher.utter_message(
                text="Sorry, I'm not sure I understood. Pick a topic, or tell me in other words.",
                buttons=menu_buttons(),
            )
            return privacy_note(dispatcher, tracker)
        _signpost(dispatcher, entries)
        return [
            *privacy_note(dispatcher, tracker),
            SlotSet("last_query", query),
            SlotSet("shown_keys", [e.key for e in entries]),
        ]


class ActionMoreOptions(Action):
    def name(self) -> str:
        return "action_more_options"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Show the next entries for the last need, or say there are no more."""
        query = tracker.get_slot("last_query")
        shown = tuple(tracker.get_slot("shown_keys") or ())
        entries = _find(query, exclude=shown) if query else []
        if not entries:
            dispatcher.utter_message(
                text="I have no more options for that. You can talk to someone, or ask about "
                "something else.",
                buttons=OFFER_BUTTONS[1:],
            )
            return []
        _signpost(dispatcher, entries, first_number=len(shown) + 1)
        return [SlotSet("shown_keys", [*shown, *(e.key for e in entries)])]


class ActionTalkToSomeone(Action):
    def name(self) -> str:
        return "action_talk_to_someone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Give the contacts of the people who can talk a family through their options.

        When the message names a topic ("talk me through the EP report"), the services for
        that topic come first.
        """
        text = tracker.latest_message.get("text") or ""
        topical = [] if text.startswith("/") else _find(text)
        if topical:
            _signpost(dispatcher, topical)
            return [SlotSet("last_query", text), SlotSet("shown_keys", [e.key for e in topical])]
        directory = services.catalog().directory
        lines = ["You can talk to a person."]
        for key in TALK_TO_KEYS:
            entry = directory.entry(key)
            if entry is not None:
                hours = f" {entry.hours}." if entry.hours else ""
                lines.append(f"{entry.name}: {contact_sentence(entry)}{hours}")
        if directory.sample_data:
            lines.append("Sample data: these contacts are made up for testing.")
        dispatcher.utter_message(text="\n".join(lines))
        return []
