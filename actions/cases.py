"""Issues: confirm what will be sent and to whom, create the case, answer status questions."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.directory.render import contact_sentence
from bot.routing.cases import case_for_sender, create_case, status_text
from bot.routing.my_cases import my_cases_text, open_cases_for
from bot.routing.references import find_reference
from bot.routing.rules import Decision, Routing, load_routing

log = logging.getLogger(__name__)
UPDATES = {
    "sms": "I will text you when it changes.",
    "telegram": "I will message you here when it changes.",
    "whatsapp": "I will message you on WhatsApp when it changes.",
}
ASK_ANY_TIME = 'Ask me "any news on my case?" here at any time.'


def reference_line(reference: str) -> str:
    """The reference, shown plainly (only the phone line spells it out, as it speaks)."""
    return f"Your case reference is {reference}. {ASK_ANY_TIME}"


@lru_cache(maxsize=1)
def routing() -> Routing:
    return load_routing()


def _quote(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


class ActionRaiseIssue(Action):
    def name(self) -> str:
        return "action_raise_issue"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Say in one message what will be sent, to whom, and what happens next; ask once."""
        text = tracker.latest_message.get("text") or ""
        decision = routing().decide(text, services.catalog())
        entry = services.catalog().directory.entry(decision.service)
        name = entry.name if entry else "the Local Offer team"
        days = max(1, round(routing().route_for(decision.service).target_hours / 24))
        channel = tracker.get_latest_input_channel() or ""
        updates = UPDATES.get(channel, ASK_ANY_TIME)
        contact = f"\nOr contact them yourself. {contact_sentence(entry)}" if entry else ""
        reply_time = f"They aim to reply within {days} working day{'s' if days > 1 else ''}."
        dispatcher.utter_message(
            text=(
                f'I can send this to {name}: "{_quote(text)}"\n'
                f"{reply_time} "
                f"You will get a case reference. {updates}\n"
                f"Shall I send it? I will keep your details only for this.{contact}"
            ),
            buttons=[
                {"title": "Yes, send it", "payload": "/affirm"},
                {"title": "No, don't send", "payload": "/deny"},
            ],
            json_message={
                "kind": "problem",
                "signpost": [decision.service],
                # On SMS the family's own words are not repeated back: each character costs.
                "sms": f"I can send this to {name}. {reply_time} "
                "You will get a case reference and updates by text. Shall I send it?",
            },
        )
        return [
            SlotSet("pending_issue", text),
            SlotSet("pending_service", decision.service),
            SlotSet("pending_category", f"{decision.category}|{decision.urgency}"),
        ]


class ActionCreateCase(Action):
    def name(self) -> str:
        return "action_create_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Create the case once, send it to the service, and give the family its reference."""
        text = tracker.get_slot("pending_issue")
        service = tracker.get_slot("pending_service")
        category, _, urgency = (tracker.get_slot("pending_category") or "general|normal").partition(
            "|"
        )
        clear = [SlotSet(s, None) for s in ("pending_issue", "pending_service", "pending_category")]
        if not text or not service:
            dispatcher.utter_message(text="Sorry, I lost what you told me. Please tell me again.")
            return clear
        try:
            case = create_case(
                services.engine(),
                routing(),
                Decision(service, category, urgency or "normal", "confirmed"),
                text,
                channel=tracker.get_latest_input_channel() or "unknown",
                sender=tracker.sender_id,
                consent=True,
                turn_id=str(tracker.latest_message.get("message_id") or len(tracker.events)),
            )
        except Exception:
            log.exception("a case could not be created: the database is unavailable")
            dispatcher.utter_message(
                text="Sorry, I could not send that just now. Nothing was lost. "
                "Please try again in a few minutes."
            )
            return clear
        try:
            entry = services.catalog().directory.entry(case.service_key)
        except Exception:  # the directory is unavailable: the case is stored all the same
            entry = None
        name = entry.name if entry else "the right team"
        # The case is "sent" only once the outbox has delivered it: say what is true now.
        dispatcher.utter_message(
            text=f"Thank you. I am sending it to {name} now.\n{reference_line(case.reference)}",
            json_message={"case": case.reference},
        )
        return clear


class ActionCaseStatus(Action):
    def name(self) -> str:
        return "action_case_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Tell the person who raised a case where it is; nobody else."""
        reference = find_reference(tracker.latest_message.get("text") or "")
        if reference is None:
            directory = services.catalog().directory
            cases = open_cases_for(services.engine(), tracker.sender_id)
            dispatcher.utter_message(
                text=my_cases_text(cases, lambda k: getattr(directory.entry(k), "name", k))
            )
            return []
        case = case_for_sender(services.engine(), reference, tracker.sender_id)
        if case is None:
            dispatcher.utter_message(
                text=f"I can't find case {reference} for you. "
                "Please check the reference, or ask to talk to someone."
            )
            return []
        dispatcher.utter_message(text=status_text(case))
        return []
