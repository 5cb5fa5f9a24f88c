"""Phone calls through Twilio Voice: a Rasa connector at /webhooks/voice/webhook.

A call hears a short welcome, then a <Gather> for speech or one key. What the caller says
goes to Rasa (so the safety override applies); the answer is played from the audio cache
or read by Twilio's <Say> while its audio is made in the background. After an answer:
9 repeats it, 5 sends it by text, 7 records a message (a case, with a call back if the
caller agrees on the keypad), 0 starts again, 8 plays the Who's Who audio guide topic by
topic (``bot.publish.phone``).
Silence or not being understood twice gives the keypad menu of the main topics (1-8).

Every request is checked with Twilio's ``RequestValidator`` (403 if wrong). The little
state a call needs (what the keys mean now, how many misses) travels in the signed
``action`` URL, and what was last said is read back from Rasa's tracker store, so any
Rasa server behind a load balancer can take the next request of a call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml import TwiML
from twilio.twiml.voice_response import VoiceResponse

from bot import contacts
from bot.config import Settings, exit_if_unsafe, load_settings
from bot.db import shared_engine
from bot.directory.records import Directory, Entry
from bot.directory.store import load_directory
from bot.directory.topics import FRONT_DOOR_KEY
from bot.feedback.parse import parse_yes_no
from bot.notify.outbox import enqueue
from bot.privacy import pseudonymise
from bot.publish import phone as whos_who
from bot.routing import callbacks
from bot.routing.cases import get_case
from bot.routing.rules import load_routing
from bot.safeguard import crisis_fallback
from bot.safety import check_message, emergency_text
from bot.speech import phrases
from bot.speech.cache import SpeechCache
from bot.speech.config import SpeechSettings, load_speech_settings
from bot.speech.hints import speech_hints
from channels import voice_twiml as twiml
from channels.audio import Speaker, audio_response, open_cache
from channels.twilio_auth import TwilioSignature, sorted_url, twilio_params

log = logging.getLogger(__name__)

CHANNEL = "voice"
REPLY_WITHIN = 10.0  # Twilio waits 15 s for a webhook
DIRECTORY_TTL = 60.0
MAX_MISSES = 2
RECORD_SECONDS = 120
PHONE = re.compile(r"^\+\d{8,15}$")
# Caller ids Twilio gives a withheld number: ANONYMOUS, RESTRICTED, UNKNOWN on a keypad,
# or the words themselves (any case), or nothing at all.
ANONYMOUS = {"+266696687", "+7378742833", "+8656696"}
WITHHELD_WORDS = {"anonymous", "restricted", "unknown", "private", "unavailable", "withheld"}
ASK, MENU, ANSWERED, CHOOSE, CONSENT = "ask", "menu", "answered", "choose", "consent"

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def withheld(caller: str) -> bool:
    """True for a withheld caller id: blank, a word such as "anonymous", or Twilio's
    keypad spellings of those words."""
    caller = caller.strip()
    return not caller or caller.lower() in WITHHELD_WORDS or caller in ANONYMOUS


def caller_number(caller: str) -> str | None:
    """The caller's phone number, when there is one we could text or ring."""
    return caller if PHONE.match(caller) and not withheld(caller) else None


def caller_key(form: Any) -> str:
    """What a call's conversation is keyed by: the caller's phone number, or the CallSid
    when there is none (withheld, or not a phone number at all)."""
    number = caller_number((form.get("From") or "").strip())
    return number or f"call:{form.get('CallSid') or uuid.uuid4().hex}"


def xml(reply: VoiceResponse) -> HTTPResponse:
    return response.text(str(reply), content_type="text/xml")


class VoiceInput(InputChannel):
    """Twilio Voice, verified, answered with easy-read speech and a keypad menu."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> VoiceInput:
        settings = load_settings()
        exit_if_unsafe(settings)
        return cls(settings, load_speech_settings())

    def __init__(self, settings: Settings, speech: SpeechSettings) -> None:
        self.settings, self.speech = settings, speech
        self.signature = TwilioSignature(settings)
        self.speaker = Speaker(lambda: self.cache, lambda name: self.url(f"audio/{name}"), speech)
        self.tasks: set[asyncio.Task[Any]] = set()
        self._cache: SpeechCache | None = None
        self._directory: tuple[float, Directory, str] | None = None
        self._routing: Any = None
        if not speech.engines:
            log.warning("voice: no speech engine (SPEECH_ENGINES): calls hear Twilio's <Say>")

    # --- plumbing ---------------------------------------------------------------------

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return shared_engine(self.settings.database_url)

    @property
    def cache(self) -> SpeechCache:
        if self._cache is None:
            self._cache = open_cache(self.settings, self.speech)
        return self._cache

    def directory(self) -> Directory:
        """The directory, read at most once a minute (for hints and the keypad menu)."""
        return self._load_directory()[1]

    def hints(self) -> str:
        """Speech hints from the directory's needs, made when the directory is read."""
        return self._load_directory()[2]

    def _load_directory(self) -> tuple[float, Directory, str]:
        now = time.monotonic()
        if self._directory is None or now - self._directory[0] > DIRECTORY_TTL:
            directory = load_directory(self.engine)
            self._directory = (now, directory, speech_hints(directory))
        return self._directory

    def url(self, route: str, **query: Any) -> str:
        """Our public URL for ``route``, its query keys sorted as Twilio will call it."""
        return sorted_url(f"{self.settings.public_url}/webhooks/{CHANNEL}/{route}", **query)

    def signature_ok(self, request: Request) -> bool:
        """Check X-Twilio-Signature against the public URL Twilio called."""
        return self.signature.ok(request)

    def sender(self, request: Request) -> str:
        """The conversation: the caller's number, or for a withheld number this one call
        (two withheld callers never share a conversation, nor can erase each other's)."""
        return pseudonymise(
            self.settings.pseudonym_key, CHANNEL, caller_key(twilio_params(request))
        )

    def say(self, target: TwiML, text: str, private: str = "") -> None:
        self.speaker.say(target, text, private)

    def gather(self, reply: VoiceResponse, mode: str, misses: int = 0, **extra: str) -> TwiML:
        action = self.url("gather", mode=mode, misses=misses, **extra)
        try:
            hints = self.hints()
        except Exception:
            log.exception("voice: no speech hints: the directory is unavailable")
            hints = ""
        return twiml.new_gather(reply, action, hints, self.speech.say_language)

    # --- the blueprint ----------------------------------------------------------------

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        voice = Blueprint("voice_webhook", __name__)

        @voice.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @voice.route("/audio/<name>", methods=["GET"])
        async def audio(request: Request, name: str) -> HTTPResponse:
            return await audio_response(self.cache, name, request)

        routes: dict[str, Callable[[Request], Awaitable[HTTPResponse]]] = {
            "webhook": self.welcome,
            "gather": lambda request: self.gathered(request, on_new_message),
            "recorded": self.recorded,
            "recording": self.recording_status,
        }
        for route, handler in routes.items():
            voice.add_route(self._signed(handler), f"/{route}", methods=["POST"], name=route)
        return voice

    def _signed(
        self, handler: Callable[[Request], Awaitable[HTTPResponse]]
    ) -> Callable[[Request], Coroutine[Any, Any, HTTPResponse]]:
        async def checked(request: Request) -> HTTPResponse:
            if not self.signature_ok(request):
                log.warning("voice: rejected a request with a missing or wrong signature")
                return response.text("Forbidden", status=403)
            return await handler(request)

        return checked

    # --- the call -----------------------------------------------------------------------

    async def welcome(self, request: Request) -> HTTPResponse:
        """A new call: the welcome, then an open question."""
        reply = VoiceResponse()
        self.say(reply, phrases.WELCOME)
        self.say(self.gather(reply, ASK), phrases.ASK)
        return xml(reply)

    async def gathered(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """What the caller said or pressed, read in the light of what they last heard."""
        mode = request.args.get("mode", ASK)
        misses = int(request.args.get("misses", "0") or 0)
        digits = (request.form.get("Digits") or "").strip()[:1]
        speech = (request.form.get("SpeechResult") or "").strip()
        if mode == CONSENT:  # after a phone message: 1 (or "yes") is yes to a call back
            return self.call_back_answer(request, digits == "1" or parse_yes_no(speech) is True)
        if digits:
            return await self.pressed(request, digits, mode, misses, on_new_message)
        if speech:
            return await self.converse(request, speech, misses, on_new_message)
        return self.silence(mode, misses)

    def silence(self, mode: str, misses: int) -> HTTPResponse:
        """Nothing heard: ask again; the second time give the keypad menu (or, if the
        menu itself met silence twice, say goodbye)."""
        reply = VoiceResponse()
        if mode == MENU and misses + 1 >= MAX_MISSES:
            self.say(reply, phrases.GOODBYE)
            reply.hangup()
        elif mode == MENU:
            self.keypad_menu(reply, misses + 1)
        elif misses + 1 < MAX_MISSES:
            self.say(self.gather(reply, mode, misses + 1), phrases.NOT_HEARD)
        else:
            self.keypad_menu(reply)
        return xml(reply)

    def keypad_menu(self, reply: VoiceResponse, misses: int = 0) -> None:
        """Say the main topics, one key each (1-8)."""
        directory = self.directory()
        labels = [n.label for k in phrases.VOICE_MENU_TOPICS if (n := directory.need(k))]
        self.say(self.gather(reply, MENU, misses), phrases.keypad_menu_text(labels))

    def ask(self, reply: VoiceResponse, text: str = phrases.ASK) -> HTTPResponse:
        self.say(self.gather(reply, ASK), text)
        return xml(reply)

    async def pressed(
        self, request: Request, key: str, mode: str, misses: int, on_new_message: OnNewMessage
    ) -> HTTPResponse:
        """One key: repeat (9), something else (0), a topic (1-8), after an answer text (5)
        or record (7); in a question, the option with that key."""
        reply = VoiceResponse()
        if whos_who.handles(mode, key):
            return self.whos_who(mode, key)
        if key == "9":
            return await self.repeat(request, mode)
        if key == "0" and mode == ASK:
            self.keypad_menu(reply)
            return xml(reply)
        if key == "0" and mode == MENU:
            return self.ask(reply)
        if key == "0":
            return await self.leave(request, on_new_message)
        if mode in (ASK, MENU) and key.isdigit() and 1 <= int(key) <= 8:
            need = phrases.VOICE_MENU_TOPICS[int(key) - 1]
            payload = "/ask_signpost" + json.dumps({"need": need})
            return await self.converse(request, payload, 0, on_new_message)
        if mode == ANSWERED and key == "5":
            return await self.send_text(request)
        if mode == ANSWERED and key == "7":
            return self.record(reply)
        if mode == CHOOSE:
            options = twiml.choices(await self.last_turn(request))
            chosen = next((p for k, p, _t in options if k == key), "")
            if chosen:
                return await self.converse(request, chosen, 0, on_new_message)
        return await self.repeat(request, mode)

    def whos_who(self, mode: str, key: str) -> HTTPResponse:
        """The Who's Who audio guide (8): one topic's recording, then its keys."""
        reply = VoiceResponse()
        turn = whos_who.guide_turn(self.directory(), mode, key, date.today())
        if turn is None:
            return self.ask(reply)
        gather = self.gather(reply, turn.mode)
        try:
            audio = self.cache.cached(turn.part.spoken)
        except Exception:
            log.exception("voice: the audio index is unavailable; using <Say>")
            audio = None
        if audio is not None:  # made by `make publish`: one file for the whole topic
            gather.play(self.url(f"audio/{audio.filename}"))
        else:
            self.say(gather, turn.part.text)
        self.say(gather, turn.keys)
        return xml(reply)

    async def converse(
        self, request: Request, text: str, misses: int, on_new_message: OnNewMessage
    ) -> HTTPResponse:
        """Send ``text`` to Rasa and answer with what it says; emergency numbers first."""
        crisis = check_message(text).crisis

        def fallback() -> str:  # the channel's own emergency reply, with a flag for review
            try:
                engine = self.engine
            except Exception:  # no database at all: the national numbers, said all the same
                log.exception("voice: no database; a crisis gets the national numbers")
                engine = None
            found = crisis_fallback(
                engine, self.sender(request), CHANNEL, text,
                front_door=self.front_door(),
                safeguarding_contact=self.settings.safeguarding_contact,
            )  # fmt: skip
            return found or self.emergency()

        messages = await self.turn(request, text, on_new_message)
        reply = VoiceResponse()
        if messages is None:
            if crisis:
                self.say(reply, fallback())
            self.say(self.gather(reply, ANSWERED), phrases.SLOW)
            return xml(reply)
        messages = twiml.emergency_first(messages, crisis, fallback)
        topics = twiml.offers_topics(messages)
        intent = await self.latest_intent(request) if topics or not crisis else None
        if topics and intent == "help_menu":
            return self.topics(reply, messages)
        if topics or intent == "out_of_scope":
            return self.not_understood(reply, messages, misses, explained=not topics)
        return self.answer(reply, messages)

    async def turn(
        self, request: Request, text: str, on_new_message: OnNewMessage
    ) -> list[dict[str, Any]] | None:
        """Run one Rasa turn; its messages, or None if it is still running after
        ``REPLY_WITHIN`` seconds (the caller can press 9 to hear it when it is done)."""
        collector = CollectingOutputChannel()
        message_id = f"{request.form.get('CallSid', 'call')}-{uuid.uuid4().hex[:8]}"
        message = UserMessage(
            text, collector, self.sender(request), input_channel=CHANNEL, message_id=message_id
        )
        turn: asyncio.Task[Any] = asyncio.ensure_future(on_new_message(message))
        done, _ = await asyncio.wait({turn}, timeout=REPLY_WITHIN)
        if turn not in done:
            self.tasks.add(turn)
            turn.add_done_callback(self.tasks.discard)
            return None
        if turn.exception() is not None:
            log.error("voice: the turn failed: %r", turn.exception())
            return [{"text": phrases.ERROR}]
        return [{**m, "private": text} for m in collector.messages]

    async def leave(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Something else (0): stop any question Rasa is asking, then ask afresh."""
        reply = VoiceResponse()
        self.say_texts(reply, await self.turn(request, "/cancel", on_new_message) or [])
        return self.ask(reply)

    def answer(self, reply: VoiceResponse, messages: list[dict[str, Any]]) -> HTTPResponse:
        """Speak each message, then the keys: options for a question, else 9 / 5 / 7 / 0."""
        self.say_texts(reply, messages)
        options = twiml.choices(messages)
        if options:
            lines = [phrases.option_line(key, title) for key, _payload, title in options]
            self.say(self.gather(reply, CHOOSE), "\n".join(lines))
        else:
            self.say(self.gather(reply, ANSWERED), phrases.AFTER_ANSWER)
        return xml(reply)

    def topics(self, reply: VoiceResponse, messages: list[dict[str, Any]]) -> HTTPResponse:
        """The caller asked for the topics: any other messages, then the keypad menu."""
        self.say_texts(reply, [m for m in messages if not m.get("buttons")])
        self.keypad_menu(reply)
        return xml(reply)

    def not_understood(
        self, reply: VoiceResponse, messages: list[dict[str, Any]], misses: int, explained: bool
    ) -> HTTPResponse:
        """A miss: Rasa's fallback (its topic buttons) or out of scope. Ask again in other
        words; the second time in a row, give the keypad menu."""
        self.say_texts(reply, [m for m in messages if not m.get("buttons")])
        if misses + 1 >= MAX_MISSES:
            self.keypad_menu(reply)
        else:
            again = phrases.TRY_AGAIN if explained else phrases.NOT_UNDERSTOOD
            self.say(self.gather(reply, ASK, misses + 1), again)
        return xml(reply)

    def say_texts(self, reply: VoiceResponse, messages: list[dict[str, Any]]) -> None:
        """Speak each message; words the caller said are never kept as audio."""
        for message in messages:
            if message.get("text"):
                self.say(reply, str(message["text"]), str(message.get("private") or ""))

    async def repeat(self, request: Request, mode: str) -> HTTPResponse:
        """Say again what the caller last heard in this part of the call."""
        reply = VoiceResponse()
        if mode == MENU:
            self.keypad_menu(reply)
            return xml(reply)
        messages = await self.last_turn(request) if mode in (ANSWERED, CHOOSE) else []
        if not messages:
            return self.ask(reply)
        return self.answer(reply, messages)

    async def send_text(self, request: Request) -> HTTPResponse:
        """Queue the last answer as an SMS to the caller's number (5)."""
        reply = VoiceResponse()
        phone = request.form.get("From") or ""
        text = twiml.sms_text(await self.last_turn(request))
        if withheld(phone):
            note = phrases.NO_TEXT_HIDDEN
        elif caller_number(phone) is None:
            note = phrases.NO_TEXT
        elif not text:
            note = phrases.NOTHING_TO_SEND
        else:
            note = self.queue_text(phone, text, request.form.get("CallSid", ""))
        self.say(self.gather(reply, ANSWERED), f"{note}\n{phrases.AFTER_ANSWER}")
        return xml(reply)

    def queue_text(self, phone: str, text: str, call: str) -> str:
        """Store ``text`` in the SMS outbox for ``phone`` (once per call); what to say next."""
        sms_sender = pseudonymise(self.settings.pseudonym_key, "sms", phone)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        try:
            contacts.remember_contact(self.engine, "sms", sms_sender, phone)
            enqueue(self.engine, "sms", sms_sender, text, dedupe_key=f"voice:{call}:{digest}")
        except Exception:
            log.exception("voice: could not queue the answer by text")
            return phrases.ERROR
        return phrases.TEXT_SENT

    def record(self, reply: VoiceResponse) -> HTTPResponse:
        """Record a spoken message about a service (7); the hash key ends it."""
        self.say(reply, phrases.RECORD_PROMPT)
        reply.record(
            action=self.url("recorded"),
            method="POST",
            timeout=5,
            finish_on_key="#",
            max_length=RECORD_SECONDS,
            play_beep=True,
            trim="trim-silence",
            recording_status_callback=self.url("recording"),
            recording_status_callback_method="POST",
        )
        return self.ask(reply, f"{phrases.NO_RECORDING}\n{phrases.ANYTHING_ELSE}")

    async def recorded(self, request: Request) -> HTTPResponse:
        """The recording is made: it becomes a case at once (nothing is lost if the caller
        hangs up); then the keypad asks whether they want a call back on this number."""
        reply = VoiceResponse()
        url, sid = request.form.get("RecordingUrl"), request.form.get("RecordingSid")
        if not url or not sid:
            return self.ask(reply, f"{phrases.NO_RECORDING}\n{phrases.ANYTHING_ELSE}")
        try:
            case = await self.keep_recording(request, url, sid)
        except Exception:
            log.exception("voice: could not keep recording %s", sid)
            return self.ask(reply, f"{phrases.ERROR}\n{phrases.ANYTHING_ELSE}")
        if not self.caller_number(request):
            return self.ask(reply, self.confirmation(case, call_back=False, hidden=True))
        self.say(self.gather(reply, CONSENT, ref=case.reference), phrases.CALL_BACK_QUESTION)
        return xml(reply)

    def caller_number(self, request: Request) -> str | None:
        return caller_number(request.form.get("From") or "")

    def call_back_answer(self, request: Request, yes: bool) -> HTTPResponse:
        """1: keep the number with the case and tell the team; anything else: no call back.
        Either way, say exactly what happened, with the reference."""
        reply = VoiceResponse()
        reference, phone = request.args.get("ref", ""), self.caller_number(request)
        try:
            case = get_case(self.engine, reference)
            if yes and phone:
                sender = self.sender(request)
                contacts.remember_contact(self.engine, CHANNEL, sender, phone)
                case = callbacks.add_call_back(
                    self.engine, self.routing, reference, sender, CHANNEL
                )
        except Exception:
            log.exception("voice: could not record the call-back answer for %s", reference)
            return self.ask(reply, f"{phrases.ERROR}\n{phrases.ANYTHING_ELSE}")
        return self.ask(reply, self.confirmation(case, call_back=bool(yes and phone)))

    def confirmation(self, case: Any, call_back: bool, hidden: bool = False) -> str:
        entry = self.front_door_or(case.service_key)
        team = entry.name if entry else "the Local Offer team"
        days = max(1, round(self.routing.route_for(case.service_key).target_hours / 24))
        said = phrases.message_sent(case.reference, team, days, call_back)
        if hidden:
            said = said.replace("They will not call you back, as you asked.", phrases.HIDDEN_NUMBER)
        return f"{said}\n{phrases.ANYTHING_ELSE}"

    def front_door_or(self, key: str) -> Entry | None:
        try:
            return self.directory().entry(key)
        except Exception:
            return None

    @property
    def routing(self) -> Any:
        if self._routing is None:
            self._routing = load_routing()
        return self._routing

    async def recording_status(self, request: Request) -> HTTPResponse:
        """Twilio's recording status callback: keep the recording if the action did not."""
        url, sid = request.form.get("RecordingUrl"), request.form.get("RecordingSid")
        if url and sid and request.form.get("RecordingStatus", "completed") == "completed":
            await self.keep_recording(request, url, sid)
        return response.empty(status=204)

    async def keep_recording(self, request: Request, url: str, sid: str) -> Any:
        """The recording as a case for the service the caller last heard about (once)."""
        tracker = await self._tracker(request)
        shown = tracker.get_slot("shown_keys") if tracker else None
        service = callbacks.phone_message_service(self.routing, shown)
        case = callbacks.phone_message(self.engine, self.routing, service, url, sid, CHANNEL)
        log.info("voice: recording %s kept as case %s", sid, case.reference)
        return case

    # --- what Rasa knows --------------------------------------------------------------

    def front_door(self) -> Entry | None:
        try:
            return self.directory().entry(FRONT_DOOR_KEY)
        except Exception:
            return None

    def emergency(self) -> str:
        return emergency_text(self.front_door())

    async def _tracker(self, request: Request) -> Any:
        try:
            return await request.app.ctx.agent.tracker_store.retrieve(self.sender(request))
        except Exception:
            log.exception("voice: could not read the conversation")
            return None

    async def last_turn(self, request: Request) -> list[dict[str, Any]]:
        """The bot's messages since the caller last spoke, as Rasa stored them."""
        tracker = await self._tracker(request)
        return twiml.last_bot_messages(list(tracker.events) if tracker else [])

    async def latest_intent(self, request: Request) -> str | None:
        tracker = await self._tracker(request)
        return tracker.latest_message.intent.get("name") if tracker else None
