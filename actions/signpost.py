"""Signposting: who can help with a need, more options, and talking to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.common import OFFER_BUTTONS, menu_buttons, privacy_note
from bot.directory import Entry, extract_age
from bot.directory.age_question import (
    AGE_QUESTION,
    age_changes_answer,
    parse_age_answer,
    question_buttons,
)
from bot.directory.render import contact_sentence, signpost_sms, signpost_text
from bot.directory.search import MAX_CHILD_AGE
from bot.person import PARENT, YOUNG_PERSON, about_another_child, speaker_of
from bot.text import clean_input

NEED_PREFIX = "need:"
MAX_INPUT = 2000
LONG_NOTE = "Your message was long, so I read the first part."
TALK_TO_KEYS = ("local_offer", "sendiass")
AGE_INTENT = "inform_age"
AGE_SLOT = "age"  # also the entity the age buttons carry
PENDING_SLOT = "age_pending_query"  # the need waiting for the answer to the age question
ASKED_SLOT = "age_asked"
AGE_FIRST = "Thank you. What do you need help with? Pick a topic, or tell me in your own words."
SPEAKER_SLOT = "speaker"  # young_person (writing about themselves) or parent
YOUNG_AGE_QUESTION = "How old are you? Services differ by age."


def find_entries(query: str, exclude: tuple[str, ...] = (), age: int | None = None) -> list[Entry]:
    """Entries for a query: a need key from a menu button, or the family's own words."""
    catalog = services.catalog()
    if query.startswith(NEED_PREFIX):
        helping = catalog.directory.for_need(query.removeprefix(NEED_PREFIX), age)
        return [e for e in helping if e.key not in exclude][:3]
    return [m.entry for m in catalog.search(query, age=age, exclude=exclude)]


def _age_value(value: Any) -> int | None:
    """An age from a slot or an entity ("8"), or None when it is not a child's age."""
    try:
        age = int(str(value))
    except ValueError:
        return None
    return age if 0 <= age <= MAX_CHILD_AGE else None


def _known_age(tracker: Tracker, query: str) -> int | None:
    """The age for ``query``: one it states itself, else the one given earlier in the chat,
    unless this message is about another child ("my other son", or a young person who
    wrote about themselves now writing about their child)."""
    stated = None if query.startswith(NEED_PREFIX) else extract_age(query)
    if stated is not None or _another_child(tracker, query):
        return stated
    return _age_value(tracker.get_slot(AGE_SLOT))


def _another_child(tracker: Tracker, text: str) -> bool:
    if text.startswith(NEED_PREFIX):
        return False
    was = tracker.get_slot(SPEAKER_SLOT)
    return about_another_child(text) or (was == YOUNG_PERSON and speaker_of(text) == PARENT)


def speaker_events(tracker: Tracker, text: str) -> list[dict[str, Any]]:
    """Remember who is writing when the message says so (kept for the rest of the chat)."""
    speaker = None if text.startswith("/") else speaker_of(text)
    if speaker and speaker != tracker.get_slot(SPEAKER_SLOT):
        return [SlotSet(SPEAKER_SLOT, speaker)]
    return []


def show_signpost(
    dispatcher: CollectingDispatcher, entries: list[Entry], first_number: int = 1
) -> None:
    """The signposting reply: who can help, with the offer of what next."""
    dispatcher.utter_message(
        text=signpost_text(entries, first_number),
        buttons=OFFER_BUTTONS,
        json_message={
            "signpost": [e.key for e in entries],
            "sms": signpost_sms(entries, first_number),
        },
    )


def _is_age_only(tracker: Tracker) -> bool:
    """True for an age given before any need: nothing waits for it and nothing was asked."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    pending = tracker.get_slot(PENDING_SLOT) or tracker.get_slot("last_query")
    return intent == AGE_INTENT and not pending


def _should_ask_age(tracker: Tracker, query: str) -> bool:
    """Ask the age once a chat at most, and only when it changes who can help."""
    if tracker.get_slot(ASKED_SLOT):
        return False

    def rank(age: int | None) -> list[str]:
        return [e.key for e in find_entries(query, age=age)]

    return age_changes_answer(rank, "" if query.startswith(NEED_PREFIX) else query)


def _answer_to_question(tracker: Tracker, text: str, need: str | None) -> tuple[str, int | None]:
    """The query and age when this message answers the age question, else ("", None).

    A short reply with an age ("he's 7", "year 3"), an age button, or anything without a
    need of its own answers it. A menu button or a new need is a new question.
    """
    pending = tracker.get_slot(PENDING_SLOT)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if not pending and intent != AGE_INTENT:
        return "", None
    age = _age_value(next(tracker.get_latest_entity_values(AGE_SLOT), None))
    if age is None and not text.startswith("/"):
        age = parse_age_answer(text)
    if need or (age is None and not text.startswith("/") and find_entries(text)):
        return "", None
    return pending or tracker.get_slot("last_query") or text, age


class ActionSignpost(Action):
    def name(self) -> str:
        return "action_signpost"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Name the one to three entries that can help; if none, offer the topic menu.

        Before that it may ask one question, the child's age, when the age changes who can
        help. Whatever comes next is answered: there is never a second question.
        """
        need = next(tracker.get_latest_entity_values("need"), None)
        text, cut = clean_input(tracker.latest_message.get("text") or "", MAX_INPUT)
        if cut:
            dispatcher.utter_message(text=LONG_NOTE)
        who = speaker_events(tracker, text)
        query, age = _answer_to_question(tracker, text, need)
        if query == text and age is not None and _is_age_only(tracker):
            if not find_entries(text, age=age):  # "my son is 7", not "nursery places near me"
                return [*who, *self.age_first(dispatcher, tracker, age)]
            query, age = "", None  # a need of its own: a new question, its age as stated
        if not query:
            query = f"{NEED_PREFIX}{need}" if need else text
            age = _known_age(tracker, query)
            if age is None and _should_ask_age(tracker, query):
                young = (who[0]["value"] if who else tracker.get_slot(SPEAKER_SLOT)) == YOUNG_PERSON
                question = YOUNG_AGE_QUESTION if young else AGE_QUESTION
                dispatcher.utter_message(text=question, buttons=question_buttons())
                return [*who, SlotSet(PENDING_SLOT, query), SlotSet(ASKED_SLOT, True)]
        events = [*who, *([SlotSet(PENDING_SLOT, None)] if tracker.get_slot(PENDING_SLOT) else [])]
        if age is not None and _age_value(tracker.get_slot(AGE_SLOT)) != age:
            events.append(SlotSet(AGE_SLOT, str(age)))
        elif age is None and tracker.get_slot(AGE_SLOT) and _another_child(tracker, query):
            events.append(SlotSet(AGE_SLOT, None))
        entries = find_entries(query, age=age)
        if not entries:
            dispatcher.utter_message(
                text="Sorry, I'm not sure I understood. Pick a topic, or tell me in other words.",
                buttons=menu_buttons(),
            )
            return [*events, *privacy_note(dispatcher, tracker)]
        show_signpost(dispatcher, entries)
        return [
            *events,
            *privacy_note(dispatcher, tracker),
            SlotSet("last_query", query),
            SlotSet("shown_keys", [e.key for e in entries]),
        ]

    @staticmethod
    def age_first(
        dispatcher: CollectingDispatcher, tracker: Tracker, age: int
    ) -> list[dict[str, Any]]:
        """An age before any need ("my son is 7"): keep it, and ask what they need."""
        dispatcher.utter_message(text=AGE_FIRST, buttons=menu_buttons())
        return [SlotSet(AGE_SLOT, str(age)), *privacy_note(dispatcher, tracker)]


class ActionMoreOptions(Action):
    def name(self) -> str:
        return "action_more_options"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Show the next entries for the last need, or say there are no more.

        With nothing shown yet, a typed message read as "more options" ("do other parents
        meet up anywhere") is a first question: it is searched as a need.
        """
        query = tracker.get_slot("last_query")
        shown = tuple(tracker.get_slot("shown_keys") or ())
        text = str(tracker.latest_message.get("text") or "")
        if not query and not shown and text and not text.startswith("/"):
            first = find_entries(text, age=_known_age(tracker, text))
            if first:
                show_signpost(dispatcher, first)
                return [SlotSet("last_query", text), SlotSet("shown_keys", [e.key for e in first])]
        entries = (
            find_entries(query, exclude=shown, age=_known_age(tracker, query)) if query else []
        )
        if not entries:
            dispatcher.utter_message(
                text="I have no more options for that. You can talk to someone, or ask about "
                "something else.",
                buttons=OFFER_BUTTONS[1:],
            )
            return []
        show_signpost(dispatcher, entries, first_number=len(shown) + 1)
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
        topical = [] if text.startswith("/") else find_entries(text)
        if topical:
            show_signpost(dispatcher, topical)
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
