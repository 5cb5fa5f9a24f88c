"""Read it to me: answers as sound as well as text, on the channels that can play sound.

The setting is the ``read_aloud`` slot, kept in the conversation (so "delete my data"
removes it too). Telegram sends each later reply as a voice message as well; the web chat
page plays it. The channels do the sound; these actions only turn the setting on and off,
and say the last answer again so the person can hear it straight away.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.common import PRIVACY_NOTE

SLOT = "read_aloud"
TURNED_ON = "OK. I will read my answers out loud as well."
AGAIN = "Here is my last answer again."
ASK = "Tell me what you need, and I will read out my answer."
TURNED_OFF = 'OK. I will only send text now. Say "read it to me" to hear answers again.'
ON_THE_PHONE = "I am already reading my answers out loud."
BY_SMS_CALL = "Text messages cannot carry sound. Call {number} to hear my answers read out."
BY_SMS = "Sorry, text messages cannot carry sound. You can ask to talk to someone instead."


def last_answer(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot's messages between the last two things the person said (oldest first)."""
    answer: list[dict[str, Any]] = []
    users_seen = 0
    for event in reversed(events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif event.get("event") == "bot" and users_seen == 1:
            answer.insert(0, event)
    return answer


class ActionReadAloud(Action):
    def name(self) -> str:
        return "action_read_aloud"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Turn reading aloud on, and give the last answer again to be heard."""
        channel = tracker.get_latest_input_channel()
        if channel == "voice":
            dispatcher.utter_message(text=ON_THE_PHONE)
            return []
        if channel == "sms":
            number = services.settings().phone_line_number
            dispatcher.utter_message(text=BY_SMS_CALL.format(number=number) if number else BY_SMS)
            return []
        dispatcher.utter_message(text=TURNED_ON, json_message={SLOT: True})
        if tracker.active_loop.get("name"):
            return [SlotSet(SLOT, True)]  # the form asks its question again next
        previous = [
            e for e in last_answer(tracker.events) if e.get("text") not in (None, "", PRIVACY_NOTE)
        ]
        if not previous:
            dispatcher.utter_message(text=ASK)
            return [SlotSet(SLOT, True)]
        dispatcher.utter_message(text=AGAIN)
        for event in previous:
            data = event.get("data") or {}
            custom = {k: v for k, v in (data.get("custom") or {}).items() if k != SLOT}
            dispatcher.utter_message(
                text=event["text"], buttons=data.get("buttons") or [], json_message=custom or None
            )
        return [SlotSet(SLOT, True)]


class ActionTextOnly(Action):
    def name(self) -> str:
        return "action_text_only"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Turn reading aloud off."""
        dispatcher.utter_message(text=TURNED_OFF, json_message={SLOT: False})
        return [SlotSet(SLOT, False)]
