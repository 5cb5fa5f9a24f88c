"""WhatsApp through Twilio: a Rasa connector at /webhooks/whatsapp/webhook.

Twilio's WhatsApp sender calls it as it calls the SMS webhook (signed the same way, with
``From`` set to "whatsapp:+44..."), so this is the SMS adapter with WhatsApp's words: the
same pipeline (:mod:`channels.pipeline`), numbered options, a picture or voice note
answered kindly. Replies keep their own characters (no GSM-7), in the TwiML answer when
quick, else through the outbox's "whatsapp" channel, which keeps WhatsApp's 24-hour rule
(``bot/notify/whatsapp.py``: later messages use an approved template). WhatsApp has no
carrier opt-out, so STOP is confirmed here.
"""

from __future__ import annotations

from bot import sms
from channels.pipeline import Message
from channels.sms import SmsInput

CHANNEL = "whatsapp"
PREFIX = "whatsapp:"
HELP_TEXT = (
    "This is the SEND Local Offer helper. Send your question in your own words. "
    "Send MENU for topics. Send STOP to stop messages. Sample data only."
)
STOPPED_TEXT = "OK. You will get no more messages from us. Send START to come back."
RESUMED_TEXT = "Welcome back. You will get our messages again. Send HELP for help."
FLOOD_TEXT = "You have sent a lot of messages. Please wait a minute, then send again."
TRUNCATED_NOTE = "Your message was long, so I read the first part."
EMPTY_TEXT = "Please send your question in a few words."
MEDIA_TEXT = (
    "I can only read text. I cannot open photos, voice notes or files. "
    "Please type your question in a few words."
)
SORRY_TEXT = "Sorry, something went wrong. Please send your message again in a few minutes."


class WhatsAppInput(SmsInput):
    """Twilio's WhatsApp sender: the SMS adapter with WhatsApp addresses and words."""

    channel = CHANNEL
    stopped_text: str | None = STOPPED_TEXT
    resumed_text: str | None = RESUMED_TEXT
    help_text = HELP_TEXT
    flood_text = FLOOD_TEXT
    apology_text = SORRY_TEXT
    truncated_note = TRUNCATED_NOTE
    empty_text = EMPTY_TEXT
    media_text = MEDIA_TEXT

    def address_of(self, sender: str) -> str:
        """The number without "whatsapp:" (the outbox's sender adds it back)."""
        return sender.removeprefix(PREFIX)

    def render(self, messages: list[Message]) -> sms.SmsReply:
        return sms.render(messages, plain=False)
