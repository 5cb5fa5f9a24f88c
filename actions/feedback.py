"""The feedback form: which service, a rating, what to say, and whether to reply."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from bot.directory.naming import named_entries
from bot.directory.render import contact_sentence
from bot.feedback.parse import parse_rating, parse_yes_no
from bot.feedback.store import FEEDBACK, GENERAL, NewFeedback, record_feedback
from bot.feedback.themes import load_themes, tag_themes
from bot.feedback.you_said import latest_text
from bot.kinds import explicit_rating, feedback_subject
from bot.routing.complaints import complaints
from bot.text import normalise

log = logging.getLogger(__name__)
FORM_SLOTS = ("feedback_service", "feedback_rating", "feedback_text", "feedback_consent")
# Leaving a form is "exit" or "back" on every channel: never a carrier keyword (STOP, END,
# QUIT, CANCEL), which on SMS would unsubscribe the family.
LEAVE_HINT = 'Say "exit" to leave at any time.'
FEEDBACK_WORDS = re.compile(
    r"\b(?:feed ?back|review|rate|rating|comments?|complain\w*|compliments?|say|tell|give|"
    r"leave|share|send|want|like|would|some|i|to|can|where|how|do|my|our|a|the)\b",
    re.IGNORECASE,
)
CARRIER_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
EMPTY_FORM = (
    "Sorry, I did not get your feedback, so nothing was kept. " 'Say "feedback" to try again.'
)
GENERAL_WORDS = ("general", "not sure", "dont know", "none", "no service", "all", "everything")


def _clear_form() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS] + [SlotSet("requested_slot", None)]


class ActionAskFeedbackService(Action):
    def name(self) -> str:
        return "action_ask_feedback_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Ask which service the feedback is about, offering the ones just shown."""
        directory = services.catalog().directory
        buttons = []
        for key in (tracker.get_slot("shown_keys") or [])[:3]:
            entry = directory.entry(key)
            if entry is not None:
                buttons.append({"title": entry.name, "payload": entry.name})
        buttons.append({"title": "General feedback", "payload": "General"})
        dispatcher.utter_message(
            text='Thank you. Which service is it about? Say "general" if it is not about one. '
            f"{LEAVE_HINT}",
            buttons=buttons,
            json_message={"kind": FEEDBACK},
        )
        return []


MIN_FEEDBACK_WORDS = 6  # "feedback: <this many words or more>" is the feedback itself


class ActionStartFeedback(Action):
    def name(self) -> str:
        return "action_start_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Before the form: fill in what the request already says ("feedback about PODS":
        the service; "5 stars": the rating; "feedback: <a sentence>": what to tell us)."""
        text = tracker.latest_message.get("text") or ""
        # Only slots left over from an earlier form are cleared: the form checks every
        # slot set before it starts.
        events: list[dict[str, Any]] = [
            SlotSet(slot, None) for slot in FORM_SLOTS if tracker.get_slot(slot) is not None
        ]
        if text.startswith("/"):
            return events
        subject = feedback_subject(text)
        catalog = services.catalog()
        named = named_entries(catalog.directory, subject or text)
        entry = named[0] if named else None
        if entry is None and subject:
            matches = catalog.search(subject, limit=1)
            entry = matches[0].entry if matches else None
        if entry is not None:
            events.append(SlotSet("feedback_service", entry.key))
            dispatcher.utter_message(
                text=f"Thank you. This is feedback about {entry.name}. {LEAVE_HINT}",
                json_message={"kind": FEEDBACK, "signpost": [entry.key]},
            )
        elif not text.startswith("/"):
            self.also_heard_by(dispatcher, text)
        rating = explicit_rating(text)
        if rating:
            events.append(SlotSet("feedback_rating", str(rating)))
        if subject and len(subject.split()) >= MIN_FEEDBACK_WORDS:
            events.append(SlotSet("feedback_text", subject))
        return events

    @staticmethod
    def also_heard_by(dispatcher: CollectingDispatcher, text: str) -> None:
        """Feedback about services that have their own listener (the NHS: Healthwatch):
        say who else hears it, before the form."""
        about = FEEDBACK_WORDS.sub(" ", text)  # "I want to give feedback" alone is about nothing
        matches = services.catalog().search(about, limit=1) if len(about.split()) >= 2 else []
        if matches and matches[0].entry.key in complaints().handlers:
            handler = matches[0].entry
            dispatcher.utter_message(
                text=f"{handler.name} also hears feedback about these services. "
                f"{contact_sentence(handler)}",
                json_message={"kind": FEEDBACK, "signpost": [handler.key]},
            )


class ValidateFeedbackForm(FormValidationAction):
    def name(self) -> str:
        return "validate_feedback_form"

    def validate_feedback_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Match the answer to a directory entry, or take it as general feedback."""
        text = str(value or "")
        plain = normalise(text)
        if not plain or plain in GENERAL_WORDS:
            return {"feedback_service": GENERAL}
        catalog = services.catalog()
        for entry in catalog.directory.entries:
            if normalise(entry.name) == plain or entry.key == plain.replace(" ", "_"):
                return {"feedback_service": entry.key}
        matches = catalog.search(text, limit=1)
        if matches:
            return {"feedback_service": matches[0].entry.key}
        return {"feedback_service": GENERAL}

    def validate_feedback_rating(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept 1 to 5, words ("really good", "meh") or an emoji; otherwise ask again."""
        if value is None:
            return {"feedback_rating": None}
        rating = parse_rating(str(value))
        if rating is None:
            dispatcher.utter_message(
                text="Sorry, I didn't get that. Please reply with a number from 1 to 5."
            )
            return {"feedback_rating": None}
        return {"feedback_rating": str(rating)}

    def validate_feedback_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if value is None:
            return {"feedback_text": None}
        if not text:
            dispatcher.utter_message(text="Please tell me in a few words.")
            return {"feedback_text": None}
        return {"feedback_text": text}

    def validate_feedback_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes keeps contact details to reply; no keeps the feedback anonymous."""
        if value is None:
            return {"feedback_consent": None}
        text = str(value)
        answer = {"/affirm": True, "/deny": False}.get(text.strip(), parse_yes_no(text))
        if answer is None:
            intent = tracker.latest_message.get("intent", {}).get("name")
            answer = {"affirm": True, "deny": False}.get(intent or "")
        if answer is None:
            dispatcher.utter_message(text="Please reply yes or no.")
            return {"feedback_consent": None}
        return {"feedback_consent": "yes" if answer else "no"}


class ActionSubmitFeedback(Action):
    def name(self) -> str:
        return "action_submit_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Store the feedback once, with themes, and thank the person.

        A form that arrives with neither a rating nor any words (a validation call that
        failed under load, say) is not feedback: nothing is stored and nobody is thanked.
        """
        text = str(tracker.get_slot("feedback_text") or "").strip()
        rating = tracker.get_slot("feedback_rating")
        if not rating and not text:
            log.warning("feedback form submitted with no rating and no text: not stored")
            dispatcher.utter_message(text=EMPTY_FORM)
            return _clear_form()
        consent = tracker.get_slot("feedback_consent") == "yes"
        new = NewFeedback(
            channel=tracker.get_latest_input_channel() or "unknown",
            conversation_id=tracker.sender_id,
            turn_id=str(tracker.latest_message.get("message_id") or len(tracker.events)),
            service_key=tracker.get_slot("feedback_service") or GENERAL,
            rating=int(rating) if rating else None,
            text=text,
            themes=tag_themes(text, load_themes()),
            consent=consent,
        )
        try:
            record_feedback(services.engine(), new)
        except Exception:
            log.exception("feedback could not be stored: the database is unavailable")
            dispatcher.utter_message(
                text="Sorry, I could not save your feedback just now. "
                "Please try again later. Nothing you said was shared."
            )
            return _clear_form()
        reply = "We will reply on this chat." if consent else "Your feedback is anonymous."
        dispatcher.utter_message(
            text=f"Thank you. Your feedback helps services get better. {reply}"
        )
        return _clear_form()


class ActionCancelFeedback(Action):
    def name(self) -> str:
        return "action_cancel_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Leave the form at once and keep nothing. On SMS a carrier keyword (STOP, CANCEL,
        END, QUIT ...) is the channel's to answer: the form closes without a word from us,
        so the family gets only the one opt-out confirmation the channel allows."""
        text = (tracker.latest_message.get("text") or "").strip().upper()
        if tracker.get_latest_input_channel() == "sms" and text in CARRIER_KEYWORDS:
            return [ActiveLoop(None), *_clear_form()]
        dispatcher.utter_message(
            text="OK, I have left the feedback. I have not kept any of that. "
            "What else can I help with?"
        )
        return [ActiveLoop(None), *_clear_form()]


class ActionWhatChanged(Action):
    def name(self) -> str:
        return "action_what_changed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The latest "You said, we did" items, in easy-read."""
        dispatcher.utter_message(text=latest_text(services.engine()))
        return []
