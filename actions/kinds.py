"""Praise, complaints and a "no": each gets its own answer, not a case by default."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.common import OFFER_BUTTONS
from bot.directory import Entry
from bot.directory.naming import named_entries
from bot.directory.render import SAMPLE_NOTICE, contact_sentence
from bot.feedback.store import GENERAL, PRAISE, NewFeedback, record_feedback
from bot.feedback.themes import load_themes, tag_themes
from bot.kinds import COMPLAINT, TURNED_DOWN, explicit_rating
from bot.person import YOUNG_PERSON
from bot.routing.complaints import complaints
from bot.sms import numbered_menu, segments, to_gsm7

log = logging.getLogger(__name__)
PENDING = ("pending_issue", "pending_service", "pending_category")
ADVICE_KEY, EARLY_HELP_KEY = "sendiass", "strengthening_families"
FORUM_KEY, YOUTH_KEY = "pods", "shout_out_for_send"
COMPLAINT_BUTTONS = [
    {"title": "Send it for me", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]


def service_in(text: str, tracker: Tracker, search: bool = True) -> Entry | None:
    """The service a message is about: one it names, else the best search match, else the
    issue waiting for a yes or no, else the first one just shown. Those who take
    complaints (the Council Complaints Team, Healthwatch) are not what a message is about."""
    catalog = services.catalog()
    handlers = complaints().handlers
    named = [e for e in named_entries(catalog.directory, text) if e.key not in handlers]
    if named:
        return named[0]
    if search and not text.startswith("/"):
        matches = [m for m in catalog.search(text, limit=3) if m.entry.key not in handlers]
        if matches:
            return matches[0].entry
    pending = tracker.get_slot("pending_service")
    for key in [pending, *(tracker.get_slot("shown_keys") or [])[:1]]:
        entry = catalog.directory.entry(key) if key else None
        if entry is not None:
            return entry
    return None


class ActionPraise(Action):
    def name(self) -> str:
        return "action_praise"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Keep thanks as positive feedback for the service named (with a rating if one was
        given), anonymously, and thank the person. With no service in sight, ask which."""
        text = tracker.latest_message.get("text") or ""
        pending_text = tracker.get_slot("pending_issue") or ""
        entry = service_in(text, tracker, search=False) or (
            service_in(pending_text, tracker) if pending_text else None
        )
        said = pending_text if pending_text and len(text.split()) < 6 else text
        rating = explicit_rating(text) or explicit_rating(pending_text)
        clear = [SlotSet(slot, None) for slot in PENDING]
        if entry is None:
            entry = service_in(text, tracker)
        if entry is None:
            events: list[dict[str, Any]] = [*clear, SlotSet("feedback_rating", None)]
            if rating:
                events.append(SlotSet("feedback_rating", str(rating)))
            return [*events, FollowupAction("feedback_form")]
        new = NewFeedback(
            channel=tracker.get_latest_input_channel() or "unknown",
            conversation_id=tracker.sender_id,
            turn_id=str(tracker.latest_message.get("message_id") or len(tracker.events)),
            service_key=entry.key or GENERAL,
            rating=rating,
            text=said,
            themes=tag_themes(said, load_themes()),
            consent=False,
            kind=PRAISE,
        )
        try:
            record_feedback(services.engine(), new)
        except Exception:
            log.exception("praise could not be stored: the database is unavailable")
            dispatcher.utter_message(
                text="Thank you. Sorry, I could not save that just now. Please try again later."
            )
            return clear
        stars = f" I have noted your {rating} out of 5." if rating else ""
        dispatcher.utter_message(
            text=f"Thank you! I have saved your thanks for {entry.name}.{stars}\n"
            'It counts in our "You said, we did" figures. The service sees them every month.',
            json_message={"kind": PRAISE, "service": entry.key, "signpost": [entry.key]},
        )
        return clear


class ActionComplain(Action):
    def name(self) -> str:
        return "action_complain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Offer the complaints route for the service the complaint is about, and to send it."""
        text = tracker.latest_message.get("text") or ""
        entry = service_in(text, tracker)
        route = complaints().route_for(entry.key if entry else None)
        if entry is None:  # "the gp was dismissive": the search or the routing rules know
            from actions.cases import routing  # it is the NHS's to hear

            top = services.catalog().search(text, limit=1)
            heard_by = [m.entry.key for m in top if m.entry.key in complaints().handlers]
            heard_by.append(routing().decide(text, services.catalog()).service)
            taken = [r for k in heard_by if (r := complaints().route_taken_by(k))]
            route = taken[0] if taken else route
        about = f" about {entry.name}" if entry else ""
        directory = services.catalog().directory
        advice = directory.entry(ADVICE_KEY)
        lines = [
            f"I'm sorry this happened. You can complain{about} to {route.name}.",
            " ".join(p for p in (route.how, route.contact()) if p),
        ]
        if advice is not None:
            lines.append(
                f"{advice.name} can help you write it, for free. {contact_sentence(advice)}"
            )
        lines.append(f"Or I can send your complaint to {route.name} for you. Shall I?")
        if directory.sample_data:
            lines.append(SAMPLE_NOTICE)
        named = [k for k in (route.case_service, ADVICE_KEY) if directory.entry(k) is not None]
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=COMPLAINT_BUTTONS,
            json_message={
                "kind": COMPLAINT,
                "service": entry.key if entry else None,
                "signpost": named,  # who can take it or help with it, as named above
            },
        )
        return [
            SlotSet("pending_issue", text),
            SlotSet("pending_service", route.case_service),
            SlotSet("pending_category", "complaint|normal"),
        ]


SMS_MOST_SEGMENTS = 4  # the longest reply by SMS, in segments


class ActionTurnedDown(Action):
    def name(self) -> str:
        return "action_turned_down"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """A "no" is a reason to widen: name the other routes, and the right to reasons."""
        text = tracker.latest_message.get("text") or ""
        catalog = services.catalog()
        directory = catalog.directory
        from actions.cases import routing

        # Who said no is a service the person names (or the one just talked about), never
        # the search's best match: that is who can help, often the advice service itself.
        entry = service_in(text, tracker, search=False)
        matches = catalog.search(text, limit=3) if not text.startswith("/") else []
        needs = [n for m in matches for n in m.entry.needs] + list(entry.needs if entry else ())
        # Only a service that makes decisions (one that takes cases) can have said no.
        entry = entry if entry is not None and entry.key in routing().services else None
        young = tracker.get_slot("speaker") == YOUNG_PERSON
        named = [ADVICE_KEY]
        lines = [
            "I'm sorry you were turned down. A no is not the end. You have other routes:",
            "1. Ask them to write down the reasons. You have a right to know why.",
        ]
        number = 2
        helper = self.helper(matches, entry)
        if helper is not None:  # help with the need itself, from someone who did not say no
            lines.append(f"{number}. Help with this: {helper.name}. {contact_sentence(helper)}")
            named.insert(0, helper.key)
            number += 1
        advice = directory.entry(ADVICE_KEY)
        if advice is not None:
            lines.append(
                f"{number}. Free, independent advice: {advice.name}. {contact_sentence(advice)}"
            )
            number += 1
        route = complaints().route_for(entry.key if entry else None)
        appeal = complaints().appeal_for(needs)
        lines.append(
            f"{number}. Challenge it: {appeal} Complaints: {route.name}. {route.contact()}".rstrip()
        )
        number += 1
        first = len(lines)  # the routes above go by SMS too; those below only if they fit
        peers = (YOUTH_KEY, "Young people like you") if young else (FORUM_KEY, "Other parents")
        for key, label in ((EARLY_HELP_KEY, "Early help for your family"), peers):
            other = directory.entry(key)
            if other is not None and (entry is None or other.key != entry.key):
                lines.append(f"{number}. {label}: {other.name}. {contact_sentence(other)}")
                named.append(other.key)
                number += 1
        notice = [SAMPLE_NOTICE] if directory.sample_data else []
        dispatcher.utter_message(
            text="\n".join(lines + notice),
            buttons=OFFER_BUTTONS[1:],
            json_message={
                "kind": TURNED_DOWN,
                "service": entry.key if entry else None,
                "signpost": [k for k in named if directory.entry(k) is not None],
                "sms": self.for_sms(lines, first, notice),
            },
        )
        return [SlotSet(slot, None) for slot in PENDING]

    @staticmethod
    def for_sms(lines: list[str], first: int, notice: list[str]) -> str:
        """The reply in at most SMS_MOST_SEGMENTS texts' worth (menu included): the right
        to reasons, the help, advice and the challenge always; the other routes while they
        fit, in order (each SMS part costs the council money, and long ones break up)."""
        menu = numbered_menu(OFFER_BUTTONS[1:])
        kept = lines[:first]
        for line in lines[first:]:
            if segments(to_gsm7("\n".join([*kept, line, *notice, menu]))) > SMS_MOST_SEGMENTS:
                break
            kept.append(line)
        return "\n".join(kept + notice)

    @staticmethod
    def helper(matches: list[Any], refused_by: Entry | None) -> Entry | None:
        """The best match for the need that makes no decisions about it (it takes no cases,
        like a national helpline), so it cannot be who said no; None if there is none."""
        from actions.cases import routing

        for match in matches:
            key = match.entry.key
            mentioned = (ADVICE_KEY, EARLY_HELP_KEY, FORUM_KEY, YOUTH_KEY)
            if key not in routing().services and key not in mentioned and match.entry != refused_by:
                return match.entry
        return None
