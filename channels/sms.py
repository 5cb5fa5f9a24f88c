"""SMS through Twilio: a Rasa connector at /webhooks/sms/webhook (WhatsApp's connector,
:mod:`channels.whatsapp`, is this one with other words and addresses).

The adapter only parses, verifies, renders and sends; :mod:`channels.pipeline` does the
rest. Each request is checked with Twilio's own ``RequestValidator`` (403 if the signature
is missing or wrong), stored, de-duplicated by ``MessageSid``, and answered with TwiML when
the answer is ready within ``SMS_REPLY_WITHIN`` seconds (3). A slower answer gets empty
TwiML at once (a crisis: the emergency reply) and goes out through the outbox (the outbox
worker, ``python -m bot outbox run``, sends it). ``SMS_REPLY_WITHIN=0`` acknowledges every
message as soon as it is stored and sends every reply by the outbox (the scaled shape's
receivers, where the webhook must answer fast under load); without Twilio credentials
(a local trial, where the outbox could only log them) it waits 3 s for TwiML instead.
STOP and its synonyms opt out; START, YES or UNSTOP opt back in; HELP gets a short help;
a picture or an empty text, a kind answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Engine
from twilio.twiml.messaging_response import MessagingResponse

from bot import contacts, sms
from bot.config import Settings, load_settings
from bot.db import shared_engine
from bot.notify.outbox import enqueue, record_delivery_status
from bot.privacy import pseudonymise
from bot.text import clean_input
from channels.pipeline import (
    Fixed,
    Inbound,
    InlineReply,
    Job,
    Keyword,
    Kind,
    Message,
    Pipeline,
    Status,
    emergency_texts,
    save_menu,
)
from channels.twilio_auth import TwilioSignature

log = logging.getLogger(__name__)

CHANNEL = "sms"
MAX_INBOUND = 1600
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_TEXT = (
    "This is the SEND Local Offer helper. Text your question in your own words. "
    "Text MENU for topics. Text STOP to stop messages. Sample data only."
)
RESUMED_TEXT = "Welcome back. You will get our messages again. Text HELP for help."
FLOOD_TEXT = "You have sent a lot of messages. Please wait a minute, then text again."
TRUNCATED_NOTE = "Your message was long, so I read the first part."
EMPTY_TEXT = "Please text your question in a few words."
LOCAL_REPLY_WITHIN = 3.0  # SMS_REPLY_WITHIN=0 without Twilio: replies in TwiML instead
MEDIA_TEXT = "I can only read text. Please type your question in a few words."
SORRY_TEXT = "Sorry, something went wrong. Please text again in a few minutes."


def twiml(text: str | None = None) -> HTTPResponse:
    """A TwiML answer built with the twilio library; no text means no reply SMS."""
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return response.text(str(reply), content_type="text/xml")


def media_count(form: Mapping[str, Any]) -> int:
    """How many pictures or files came with the message (Twilio's ``NumMedia``)."""
    try:
        return int(form.get("NumMedia") or 0)
    except ValueError:
        return 0


class SmsInput(InputChannel):
    """Twilio SMS: verified, read into an :class:`Inbound`, rendered as plain GSM-7 text."""

    channel = CHANNEL
    stopped_text: str | None = None  # Twilio's carrier opt-out confirms STOP itself
    resumed_text: str | None = RESUMED_TEXT
    help_text = HELP_TEXT
    flood_text = FLOOD_TEXT
    apology_text = SORRY_TEXT
    truncated_note = TRUNCATED_NOTE
    empty_text = EMPTY_TEXT
    media_text = MEDIA_TEXT

    @classmethod
    def name(cls) -> str:
        return cls.channel

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SmsInput:
        return cls(load_settings())

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.signature = TwilioSignature(settings)
        self.pipeline = Pipeline(
            lambda: self.engine,
            settings.safeguarding_contact,
            recover_after=settings.inbound_recover_after,
            recover_every=settings.inbound_recover_every,
        )
        self.reply_within = settings.sms_reply_within
        if not settings.twilio_configured:
            log.warning(
                "%s: Twilio is not configured: replies sent later are logged, not delivered",
                self.channel,
            )
            if self.reply_within <= 0:
                # Every reply would only be logged: a local trial waits for TwiML instead.
                self.reply_within = LOCAL_REPLY_WITHIN
                log.warning(
                    "%s: SMS_REPLY_WITHIN=0 needs Twilio to send replies; waiting up to "
                    "%.0f s for a TwiML answer instead",
                    self.channel, LOCAL_REPLY_WITHIN,
                )  # fmt: skip

    @property
    def engine(self) -> Engine:
        return shared_engine(self.settings.database_url)

    def signature_ok(self, request: Request) -> bool:
        """Check X-Twilio-Signature against the public URL Twilio called."""
        return self.signature.ok(request)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"{self.channel}_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.signature_ok(request):
                log.warning(
                    "%s: rejected a request with a missing or wrong signature", self.channel
                )
                return response.text("Forbidden", status=403)
            return await self.handle(request.form, on_new_message)

        @webhook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            if not self.signature_ok(request):
                return response.text("Forbidden", status=403)
            sid, state = request.form.get("MessageSid"), request.form.get("MessageStatus")
            if sid and state:
                await asyncio.to_thread(record_delivery_status, self.engine, sid, state)
            return response.text("", status=204)

        @webhook.listener("after_server_start")
        async def recover(_app: Any, _loop: Any) -> None:
            self.pipeline.watch(self, on_new_message)

        @webhook.listener("before_server_stop")
        async def finish(_app: Any, _loop: Any) -> None:
            await self.pipeline.stop()

        return webhook

    # -- parse ---------------------------------------------------------------------------

    def address_of(self, sender: str) -> str:
        """The phone number in Twilio's ``From`` (WhatsApp prefixes it with "whatsapp:")."""
        return sender

    def parse(self, form: Mapping[str, Any]) -> Inbound | None:
        """The message in a Twilio webhook's form, or None without ``MessageSid``/``From``."""
        sid, sender = form.get("MessageSid"), form.get("From")
        if not sid or not sender:
            return None
        address = self.address_of(str(sender))
        text, truncated = clean_input(str(form.get("Body") or ""), MAX_INBOUND)
        kind = Kind.MEDIA if media_count(form) and not text.strip() else Kind.TEXT
        return Inbound(
            channel=self.channel,
            external_id=str(sid),
            sender=pseudonymise(self.settings.pseudonym_key, self.channel, address),
            address=address,
            text=text,
            kind=kind,
            truncated=truncated,
        )

    def restore(self, row: contacts.Unanswered) -> Inbound | None:
        """A stored message again, to answer it after a restart."""
        if row.address is None:
            return None
        kind = Kind.MEDIA if row.kind == Kind.MEDIA.value else Kind.TEXT
        text = "" if kind is Kind.MEDIA else row.text
        return Inbound(self.channel, row.external_id, row.sender, row.address, text, kind)

    # -- words -----------------------------------------------------------------------------

    def keyword(self, inbound: Inbound) -> Keyword | None:
        word = inbound.text.strip().upper()
        if word in STOP_WORDS:
            return Keyword.STOP
        if word in START_WORDS:
            return Keyword.START
        return Keyword.HELP if word == "HELP" else None

    def stop_reason(self, inbound: Inbound) -> str:
        return inbound.text.strip().lower()

    def resumes(self, inbound: Inbound, keyword: Keyword | None, reason: str) -> bool:
        return keyword is Keyword.START

    def for_rasa(self, inbound: Inbound, menu: list[dict[str, Any]]) -> str | Fixed:
        """What Rasa reads: the payload of a numbered choice, or the words as they came."""
        if inbound.kind is Kind.MEDIA:
            return Fixed(self.media_text, Status.UNREADABLE)
        if not inbound.text:
            return Fixed(self.empty_text, Status.UNREADABLE)
        return sms.pick_option(inbound.text, menu) or inbound.text

    def collector(self) -> CollectingOutputChannel:
        return CollectingOutputChannel()

    # -- render and send -------------------------------------------------------------------

    def render(self, messages: list[Message]) -> sms.SmsReply:
        return sms.render(messages)

    async def begin(self, inbound: Inbound) -> None:
        return None

    async def deliver(
        self, job: Job, messages: list[Message], turn: bool, part: str = "reply"
    ) -> Status:
        """In the TwiML answer if the webhook still waits, else through the outbox (once:
        keyed by ``part`` and the MessageSid). A turn's reply also leaves its menu."""
        inbound = job.inbound
        reply = self.render(messages)
        if turn:
            menu = [dict(b) for b in reply.buttons]
            await save_menu(self.engine, inbound.sender, menu)
        if job.emergency_sent and part != "help" and emergency_texts(messages):
            # The webhook's time ran out while we waited, and it sent the emergency reply
            # in its TwiML answer: not twice. (No await from here to the offer or queue.)
            messages = [m for m in messages if not emergency_texts([m])]
            reply = self.render(messages)
        text = reply.text
        if turn and inbound.truncated and text:
            text = f"{self.truncated_note}\n{text}"
        if not text:
            return Status.REPLIED
        log.info(
            "%s: reply to %s in %d segment(s)",
            self.channel,
            inbound.external_id,
            sms.segments(text),
        )
        if job.inline is not None and job.inline.offer(text):
            return Status.REPLIED
        key = f"{self.channel}-{part}:{inbound.external_id}"
        await asyncio.to_thread(
            enqueue, self.engine, self.channel, inbound.sender, text, dedupe_key=key
        )
        return Status.QUEUED

    async def after_reply(self, job: Job, messages: list[Message]) -> None:
        return None

    # -- the webhook -----------------------------------------------------------------------

    async def handle(
        self, form: Mapping[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Store one verified message and answer it in TwiML if that is quick enough."""
        inbound = self.parse(form)
        if inbound is None:
            return response.text("MessageSid and From are required", status=400)
        try:
            job = await self.pipeline.admit(inbound)
        except Exception:
            log.exception(
                "%s: the database is unavailable; answering without storing", self.channel
            )
            help_text = await self.pipeline.unstored(inbound)  # a crisis: help all the same
            if help_text:
                return twiml(self.render([{"text": help_text}]).text)
            return twiml(self.apology_text)
        if job is None:
            return twiml()  # Twilio delivered it again: answered once already
        if self.reply_within <= 0:
            # Acknowledge now: stored, so safe; the crisis check, the turn and the reply
            # (a crisis: the emergency reply first) go on in the background, by the outbox.
            self.pipeline.start(self, job, on_new_message)
            return twiml()
        job.inline = inline = InlineReply()
        task = self.pipeline.start(self, job, on_new_message)
        ready = asyncio.ensure_future(inline.ready.wait())
        await asyncio.wait(
            {task, ready},
            timeout=self.reply_within,
            return_when=asyncio.FIRST_COMPLETED,
        )
        ready.cancel()
        if inline.text is not None:
            return twiml(inline.text)
        inline.close()  # from now on the answer goes by the outbox
        if task.done() or not await job.check():
            return twiml()
        # A crisis is not left waiting: the emergency reply now, the rest later.
        job.emergency_sent = True
        help_text = await job.emergency()
        if not help_text:
            job.emergency_sent = False
            return twiml()
        log.info(
            "%s: %s is slow; the emergency reply went first", self.channel, inbound.external_id
        )
        return twiml(self.render([{"text": help_text}]).text)
