"""SMS through Twilio: a Rasa connector at /webhooks/sms/webhook.

Each request is checked with Twilio's own ``RequestValidator`` (403 if the signature is
missing or wrong), stored before anything else, de-duplicated by ``MessageSid``, and
answered with TwiML when the turn finishes within ``SMS_REPLY_WITHIN`` seconds (3). A slower turn
gets empty TwiML at once and its reply goes out through the outbox and the Twilio REST API.
STOP and its synonyms opt out; START, YES or UNSTOP opt back in; HELP gets a short help.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.messaging_response import MessagingResponse

from bot import contacts, sms
from bot.config import Settings, load_settings
from bot.db import shared_engine
from bot.notify.outbox import Sender, deliver_due, enqueue, record_delivery_status
from bot.notify.registry import build_senders
from bot.privacy import pseudonymise
from bot.safeguard import crisis_fallback
from bot.safety import check_message, is_emergency_reply
from bot.text import clean_input
from channels.twilio_auth import TwilioSignature

log = logging.getLogger(__name__)

CHANNEL = "sms"
MAX_INBOUND = 1600
OUTBOX_POLL_SECONDS = 2.0
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_TEXT = (
    "This is the SEND Local Offer helper. Text your question in your own words. "
    "Text MENU for topics. Text STOP to stop messages. Sample data only."
)
RESUMED_TEXT = "Welcome back. You will get our messages again. Text HELP for help."
FLOOD_TEXT = "You have sent a lot of messages. Please wait a minute, then text again."
TRUNCATED_NOTE = "Your message was long, so I read the first part."


def twiml(text: str | None = None) -> HTTPResponse:
    """A TwiML answer built with the twilio library; no text means no reply SMS."""
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return response.text(str(reply), content_type="text/xml")


class SmsInput(InputChannel):
    """Twilio SMS, verified, de-duplicated and rendered as plain GSM-7 text."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SmsInput:
        return cls(load_settings())

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.signature = TwilioSignature(settings)
        self.tasks: set[asyncio.Task[Any]] = set()
        # This server's outbox worker delivers SMS, email, webhook and log messages.
        self.senders: dict[str, Sender] = build_senders(settings)
        if not settings.twilio_configured:
            log.warning("Twilio is not configured: SMS sent later are logged, not delivered")

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return shared_engine(self.settings.database_url)

    def signature_ok(self, request: Request) -> bool:
        """Check X-Twilio-Signature against the public URL Twilio called."""
        return self.signature.ok(request)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sms_webhook = Blueprint("sms_webhook", __name__)

        @sms_webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sms_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.signature_ok(request):
                log.warning("sms: rejected a request with a missing or wrong signature")
                return response.text("Forbidden", status=403)
            return await self.handle(request, on_new_message)

        @sms_webhook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            if not self.signature_ok(request):
                return response.text("Forbidden", status=403)
            sid, state = request.form.get("MessageSid"), request.form.get("MessageStatus")
            if sid and state:
                record_delivery_status(self.engine, sid, state)
            return response.text("", status=204)

        @sms_webhook.listener("after_server_start")
        async def start_outbox(app: Any, _loop: Any) -> None:
            self.tasks.add(asyncio.create_task(self.deliver_forever()))

        return sms_webhook

    async def deliver_forever(self) -> None:
        """Deliver queued messages every couple of seconds, for as long as the server runs."""
        while True:
            try:
                await deliver_due(self.engine, self.senders)
            except Exception:
                log.exception("sms outbox: delivery round failed; will try again")
            await asyncio.sleep(OUTBOX_POLL_SECONDS)

    async def handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Store, filter (duplicates, opt-outs, floods) and answer one inbound SMS."""
        sid, phone = request.form.get("MessageSid"), request.form.get("From")
        if not sid or not phone:
            return response.text("MessageSid and From are required", status=400)
        sender = pseudonymise(self.settings.pseudonym_key, CHANNEL, phone)
        text, truncated = clean_input(request.form.get("Body") or "", MAX_INBOUND)
        try:
            contacts.remember_contact(self.engine, CHANNEL, sender, phone)
            if not contacts.record_inbound(self.engine, CHANNEL, sid, sender, text):
                log.info("sms: %s delivered again; not answered twice", sid)
                return twiml()
        except Exception:
            log.exception("sms: the database is unavailable; answering without storing")
            return twiml("Sorry, something went wrong. Please text again in a few minutes.")
        keyword = text.strip().upper()
        crisis = check_message(text).crisis
        if keyword in STOP_WORDS:
            contacts.opt_out(self.engine, CHANNEL, sender, keyword.lower())
            log.info("sms: %s opted out", sender)
            return twiml()
        if contacts.is_opted_out(self.engine, sender):
            if keyword in START_WORDS:
                contacts.opt_in(self.engine, sender)
                return twiml(RESUMED_TEXT)
            # Safety first: someone at risk gets the emergency numbers even after STOP.
            help_text = self.fallback(sender, text) if crisis else None
            return twiml(sms.to_gsm7(help_text) if help_text else None)
        if keyword == "HELP":
            return twiml(HELP_TEXT)
        recent = contacts.recent_count(self.engine, sender)
        if recent > contacts.FLOOD_LIMIT_PER_MINUTE and not crisis:
            first_over = recent == contacts.FLOOD_LIMIT_PER_MINUTE + 1
            return twiml(FLOOD_TEXT if first_over else None)
        if not text:
            return twiml("Please text your question in a few words.")
        choice = sms.pick_option(text, contacts.last_menu(self.engine, sender))
        return await self.converse(choice or text, sid, sender, truncated, on_new_message)

    def fallback(self, sender: str, text: str) -> str | None:
        """The emergency reply from the channel itself (and a flag), if ``text`` is a crisis."""
        contact = self.settings.safeguarding_contact
        return crisis_fallback(self.engine, sender, CHANNEL, text, safeguarding_contact=contact)

    async def converse(
        self,
        text: str,
        sid: str,
        sender: str,
        truncated: bool,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        """Run the turn; answer in TwiML if quick, otherwise through the outbox."""
        collector = CollectingOutputChannel()
        message = UserMessage(text, collector, sender, input_channel=CHANNEL, message_id=sid)
        turn = asyncio.create_task(on_new_message(message))
        done, _ = await asyncio.wait({turn}, timeout=self.settings.sms_reply_within)
        failed = turn in done and turn.exception() is not None
        if failed:
            log.error("sms: the turn for %s failed: %r", sid, turn.exception())
        texts = [str(m.get("text") or "") for m in collector.messages] if turn in done else []
        # A crisis always gets the emergency reply, even if Rasa or the action server failed.
        help_text = None if is_emergency_reply(texts) else self.fallback(sender, text)
        if turn in done and not failed:
            messages = [*([{"text": help_text}] if help_text else []), *collector.messages]
            return twiml(self.finish(sid, sender, messages, truncated))
        if failed:
            if help_text:
                return twiml(self.finish(sid, sender, [{"text": help_text}], truncated))
            return twiml("Sorry, something went wrong. Please text again in a few minutes.")
        self.tasks.add(turn)
        turn.add_done_callback(
            lambda t: self.finish_later(t, sid, sender, collector, truncated, bool(help_text))
        )
        log.info("sms: %s is slow; the reply will follow through the outbox", sid)
        if help_text:
            contacts.set_inbound_status(self.engine, CHANNEL, sid, "replied")
        return twiml(sms.to_gsm7(help_text) if help_text else None)

    def finish(self, sid: str, sender: str, messages: list[dict[str, Any]], truncated: bool) -> str:
        """Render the reply, remember its menu and mark the message answered."""
        reply = sms.render(messages)
        contacts.save_menu(self.engine, sender, list(reply.buttons))
        contacts.set_inbound_status(self.engine, CHANNEL, sid, "replied")
        text = f"{TRUNCATED_NOTE}\n{reply.text}" if truncated else reply.text
        log.info("sms: replied to %s in %d segment(s)", sid, sms.segments(text))
        return text

    def finish_later(
        self,
        turn: asyncio.Task[Any],
        sid: str,
        sender: str,
        collector: CollectingOutputChannel,
        truncated: bool,
        answered: bool = False,
    ) -> None:
        self.tasks.discard(turn)
        if turn.cancelled() or turn.exception() is not None:
            log.error("sms: the slow turn for %s failed", sid)
            return
        messages = collector.messages
        if answered:  # the emergency reply already went out with the TwiML answer
            messages = [m for m in messages if not is_emergency_reply([str(m.get("text") or "")])]
        text = self.finish(sid, sender, messages, truncated)
        if text:
            enqueue(self.engine, CHANNEL, sender, text, dedupe_key=f"sms-reply:{sid}")
