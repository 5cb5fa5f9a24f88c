"""Reaching a service: every way in (email, text, web), opening hours, a call back, what a
word means, and a first answer for people who write in another language."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.cases import routing
from actions.common import OFFER_BUTTONS
from bot.directory import Entry
from bot.directory.hours import open_now_text, when_text
from bot.directory.naming import named_entries
from bot.directory.render import SAMPLE_NOTICE, contact_sentence
from bot.directory.topics import FRONT_DOOR_KEY
from bot.glossary import asked_term, glossary
from bot.language import detect, in_danger, reply_text, translations
from bot.routing.callbacks import CALL_BACK, request_call_back
from bot.routing.rules import Decision
from bot.safety import emergency_text
from bot.safety_log import flag_conversation

log = logging.getLogger(__name__)
CALL_BACK_CHANNELS = ("sms", "voice")  # channels where we hold the number that wrote to us
LOCAL_OFFER_KEY = "local_offer"
CALL_BACK_BUTTONS = [
    {"title": "Yes, ring me", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]


def now() -> datetime:
    """The time now; ``ASSISTANT_NOW`` (ISO 8601) fixes it for tests and demonstrations."""
    fixed = services.settings().assistant_now
    return datetime.fromisoformat(fixed) if fixed else datetime.now(timezone.utc)


def entries_in_view(tracker: Tracker, text: str, limit: int = 3) -> list[Entry]:
    """The services a question like "what's their email" is about: those it names, else
    those just shown (up to ``limit``)."""
    directory = services.catalog().directory
    named = named_entries(directory, text)
    if named:
        return named[:limit]
    shown = [directory.entry(k) for k in (tracker.get_slot("shown_keys") or [])[:limit]]
    return [e for e in shown if e is not None]


def _is_mobile(phone: str | None) -> bool:
    digits = (phone or "").replace(" ", "")
    return digits.startswith(("07", "+447"))


def other_ways(entry: Entry) -> str:
    """Every way to reach ``entry`` without a phone call, in one short line."""
    ways = []
    if entry.email:
        ways.append(f"email {entry.email}")
    if _is_mobile(entry.phone):
        ways.append(f"text {entry.phone}")
    if entry.web:
        ways.append(f"visit {entry.web}")
    if not ways:
        return f"{entry.name}: {contact_sentence(entry)}"
    joined = ", or ".join(ways)
    return f"{entry.name}: {joined[:1].upper()}{joined[1:]}."


class ActionContactRoute(Action):
    def name(self) -> str:
        return "action_contact_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Email, text and web routes for the services named or just shown."""
        text = tracker.latest_message.get("text") or ""
        entries = entries_in_view(tracker, text)
        if not entries:
            dispatcher.utter_message(
                text="Which service do you mean? Tell me what you need, and I will find it."
            )
            return []
        lines = ["You don't have to phone. You can:"]
        lines += [other_ways(e) for e in entries]
        if "text" in text.lower() and not any(_is_mobile(e.phone) for e in entries):
            lines.append("They don't take texts. Email is the next best way.")
        if any(e.sample_data for e in entries):
            lines.append(SAMPLE_NOTICE)
        dispatcher.utter_message(text="\n".join(lines), buttons=OFFER_BUTTONS)
        return []


class ActionOpeningHours(Action):
    def name(self) -> str:
        return "action_opening_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Open now or not, in UK time with bank holidays, for the service just named."""
        text = tracker.latest_message.get("text") or ""
        entries = entries_in_view(tracker, text, limit=1)
        if not entries:
            dispatcher.utter_message(
                text="Which service do you mean? Tell me its name, or what you need."
            )
            return []
        entry = entries[0]
        moment = now()
        lines = [open_now_text(entry.name, entry.hours, moment)]
        if any(w in text.lower() for w in ("when", "what time", "hours", "times")):
            lines.append(when_text(entry.name, entry.hours))
        lines.append(contact_sentence(entry))
        if entry.sample_data:
            lines.append(SAMPLE_NOTICE)
        dispatcher.utter_message(text="\n".join(lines), buttons=OFFER_BUTTONS)
        return []


class ActionExplainTerm(Action):
    def name(self) -> str:
        return "action_explain_term"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """What a word means in two short sentences, then who helps with it."""
        from actions.signpost import ActionSignpost

        text = tracker.latest_message.get("text") or ""
        term = asked_term(text) or glossary().find(text)
        if term is None:
            return await ActionSignpost().run(dispatcher, tracker, domain)
        directory = services.catalog().directory
        helpers = [directory.entry(k) for k in term.who]
        if term.need:
            helpers += directory.for_need(term.need)
        who = [e for e in dict.fromkeys(h for h in helpers if h is not None)][:2]
        lines = [f"{term.term}: {term.meaning}"]
        if who:
            lines.append("Who can help:")
            lines += [f"{e.name}: {contact_sentence(e)}" for e in who]
        if any(e.sample_data for e in who):
            lines.append(SAMPLE_NOTICE)
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=OFFER_BUTTONS,
            json_message={"glossary": term.term, "signpost": [e.key for e in who]},
        )
        return [SlotSet("shown_keys", [e.key for e in who])] if who else []


class ActionOtherLanguage(Action):
    def name(self) -> str:
        return "action_other_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """In the person's language: we read English; an interpreter through the Local Offer
        team; 999 when in danger. Words of danger get the emergency contacts first."""
        from actions.signpost import ActionSignpost

        text = tracker.latest_message.get("text") or ""
        code = next(tracker.get_latest_entity_values("language"), None)
        language = translations().languages.get(code) if code else detect(text)
        if language is None:
            return await ActionSignpost().run(dispatcher, tracker, domain)
        directory = services.catalog().directory
        team = directory.entry(LOCAL_OFFER_KEY)
        phone = (team.phone if team else None) or "the council"
        if in_danger(language, text):
            dispatcher.utter_message(text=emergency_text(directory.entry(FRONT_DOOR_KEY)))
            channel = tracker.get_latest_input_channel() or "unknown"
            try:
                flag_conversation(services.engine(), tracker.sender_id, channel,
                                  (f"danger words in {language.name}",))  # fmt: skip
            except Exception:
                log.exception("could not flag a conversation in %s for review", language.name)
        dispatcher.utter_message(
            text=reply_text(language, phone),
            json_message={"language": language.code, "unicode": True},
        )
        return [SlotSet("language", language.code)]


class ActionOfferCallBack(Action):
    def name(self) -> str:
        return "action_offer_call_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """By text or phone, offer a call back from the Local Offer team on this number
        (asking consent first); elsewhere, say who to call."""
        from actions.signpost import ActionTalkToSomeone

        channel = tracker.get_latest_input_channel() or ""
        if channel not in CALL_BACK_CHANNELS:
            return await ActionTalkToSomeone().run(dispatcher, tracker, domain)
        team = services.catalog().directory.entry(LOCAL_OFFER_KEY)
        name = team.name if team else "The Local Offer team"
        dispatcher.utter_message(
            text=f"I can ask {name} to ring you on this number. "
            f"They aim to call within {self.days()} working days.\n"
            "We keep your number only for this call. Shall I ask them?",
            buttons=CALL_BACK_BUTTONS,
        )
        return [SlotSet("pending_issue", tracker.latest_message.get("text") or "call me back")]

    @staticmethod
    def days() -> int:
        return max(1, round(routing().route_for(LOCAL_OFFER_KEY).target_hours / 24))


class ActionCreateCallBack(Action):
    def name(self) -> str:
        return "action_create_call_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The person agreed: a case to the Local Offer team, with their number kept to ring."""
        from actions.cases import reference_line

        said = tracker.get_slot("pending_issue") or "call me back"
        channel = tracker.get_latest_input_channel() or "unknown"
        clear = [SlotSet("pending_issue", None)]
        if channel not in CALL_BACK_CHANNELS:  # no number to ring: say who to call instead
            from actions.signpost import ActionTalkToSomeone

            return [*clear, *await ActionTalkToSomeone().run(dispatcher, tracker, domain)]
        try:
            case = request_call_back(
                services.engine(), routing(),
                Decision(LOCAL_OFFER_KEY, CALL_BACK, "normal", "call back"),
                f"Please ring this family back. They said: {said}",
                channel=channel, sender=tracker.sender_id,
                turn_id=str(tracker.latest_message.get("message_id") or len(tracker.events)),
            )  # fmt: skip
        except Exception:
            log.exception("a call-back request could not be created")
            dispatcher.utter_message(
                text="Sorry, I could not ask for a call just now. Nothing was lost. "
                "Please try again in a few minutes."
            )
            return clear
        days = ActionOfferCallBack.days()
        dispatcher.utter_message(
            text=f"Done. I have asked the Local Offer team to ring you on this number.\n"
            f"They aim to call within {days} working days.\n{reference_line(case.reference)}",
            json_message={"case": case.reference, "kind": "call_back"},
        )
        return clear
