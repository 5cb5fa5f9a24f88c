"""The thin receiver (channels/receiver.py) and the turn endpoint it calls on a Rasa server
(channels/turn.py), fast: no trained model.

- The turn endpoint in a Sanic app as Rasa registers it, with a stub in place of Rasa's
  agent: the token (closed without one, 401 without a header, 403 for a wrong one), bad
  bodies (400), and the exact JSON of an answer, a failed turn and a failed action.
- The receiver's real Sanic app (the real connectors and pipeline, reached over ASGI)
  against a fake Rasa turn endpoint on loopback (an aiohttp server, tests/fakes/rasa_turn.py)
  and the fake Telegram Bot API: a real Twilio SMS body (blank fields and all, signed with
  the twilio library) answered in TwiML; the same replies as the connectors give in one
  process; Telegram answered through the Bot API, read-aloud included; Rasa down, erring,
  failing an action, too slow or refusing the token: an apology, and a crisis the emergency
  reply with a flag for staff; a repeated MessageSid answered once.
- The receiver's process without TensorFlow or Rasa's agent, and refusing to start
  without TURN_TOKEN.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from bot.db import make_engine, session_scope, upgrade
from bot.privacy import pseudonymise
from bot.safety import EMERGENCY_LINE
from bot.safety_log import SafetyFlagRow
from bot.speech.config import SpeechSettings
from channels import receiver as receiver_module
from channels.receiver import RemoteAgent, make_app
from channels.sms import SORRY_TEXT as SMS_SORRY
from channels.sms import SmsInput
from channels.telegram import NO_AUDIO_TEXT, TelegramInput
from channels.telegram import SORRY_TEXT as TELEGRAM_SORRY
from channels.turn import TurnInput
from channels.whatsapp import WhatsAppInput
from tests.channel_helpers import (
    KEY,
    StubTurn,
    client_for,
    inbound_rows,
    message_texts,
    quick,
    settings_for,
    settle,
)
from tests.conftest import free_port
from tests.fakes.rasa_turn import FakeRasaTurns
from tests.fakes.telegram_api import FakeTelegram
from tests.sanic_asgi import lifespan_client
from tests.test_twilio_webhooks import FORM, PUBLIC_URL, changed, post, raw, signature
from tests.test_twilio_webhooks import TOKEN as TWILIO_TOKEN

TURN_TOKEN = "test-turn-token"
TURN = "/webhooks/turn/webhook"
SMS = "/webhooks/sms/webhook"
TELEGRAM = "/webhooks/telegram/webhook"
TG_TOKEN, TG_SECRET = "123:ABC", "s3cret"
CRISIS = "my dad hits me and im scared to go home"
SIGNED_SID = "SM4c6a1f0e2b7d4a9c8e3f5b6a7c8d9e0f"  # the MessageSid in sms_inbound.txt
SIGNED_TEXT = "Who helps with school transport? My son's 11 & has an EHCP"
SIGNED_SENDER = pseudonymise(KEY, "sms", "+447700900456")


def statuses(engine) -> list[str]:
    return [row[3] for row in inbound_rows(engine)]


# -- the turn endpoint on a Rasa server ---------------------------------------------------

READ_ALOUD_DOMAIN = Domain.from_dict(
    {"slots": {"read_aloud": {"type": "bool", "mappings": [{"type": "custom"}]}}}
)


class RasaLike:
    """Stands in for Rasa's agent: sends bot messages as Rasa's processor does
    (``send_response`` with a ``BotUttered.message()``: text, buttons, None for what it
    lacks, a timestamp, the response's name) and can set ``read_aloud``."""

    def __init__(self, store: InMemoryTrackerStore, behaviour: str = "answer") -> None:
        self.store, self.behaviour = store, behaviour
        self.seen: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.seen.append(message)
        if self.behaviour == "raise":
            raise RuntimeError("Rasa is down")
        if self.behaviour == "action":
            logging.getLogger("rasa.core.processor").error(
                "Encountered an exception while running action 'action_signpost'."
                "Bot will continue, but the actions events are lost."
            )
            return
        out = message.output_channel
        await out.send_response(message.sender_id, {
            "text": "These can help:\n\nSEND Travel Assistance.",
            "buttons": [{"title": "More options", "payload": "/more_options"}],
            "image": None, "elements": None, "quick_replies": None, "attachment": None,
            "custom": None, "timestamp": 1760000000.5, "utter_action": "utter_signpost",
        })  # fmt: skip
        await out.send_text_message(message.sender_id, "One.\n\nTwo.")
        tracker = await self.store.get_or_create_tracker(str(message.sender_id))
        tracker.update(SlotSet("read_aloud", True))
        await self.store.save(tracker)


@asynccontextmanager
async def turn_endpoint(engine, token: str = TURN_TOKEN, behaviour: str = "answer"):
    store = InMemoryTrackerStore(READ_ALOUD_DOMAIN)
    rasa = RasaLike(store, behaviour)
    channel = TurnInput(settings_for(engine, turn_token=token))
    async with client_for(channel, rasa, {"agent": SimpleNamespace(tracker_store=store)}) as c:
        yield c, rasa


TURN_BODY = {
    "sender": "telegram-3f2a", "text": "who helps with transport", "input_channel": "telegram",
    "metadata": {"source": "test"}, "message_id": "90001",
}  # fmt: skip


def turn_call(endpoint, body: Any, authorization: str | None = f"Bearer {TURN_TOKEN}"):
    headers = {"Authorization": authorization} if authorization else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return endpoint.post(TURN, content=content, headers=headers)


def test_the_turn_endpoint_runs_the_turn_and_answers_every_message_whole(engine):
    async def go():
        async with turn_endpoint(engine) as (client, rasa):
            answer = await turn_call(client, {**TURN_BODY, "slots": ["read_aloud"]})
        return answer, rasa

    answer, rasa = asyncio.run(go())
    assert answer.status_code == 200
    assert answer.json() == {
        "messages": [
            {
                "recipient_id": "telegram-3f2a",
                "text": "These can help:\n\nSEND Travel Assistance.",
                "buttons": [{"title": "More options", "payload": "/more_options"}],
                "timestamp": 1760000000.5,
                "utter_action": "utter_signpost",
            },
            {"recipient_id": "telegram-3f2a", "text": "One.\n\nTwo."},
        ],
        "slots": {"read_aloud": True},
    }
    (seen,) = rasa.seen
    assert (seen.sender_id, seen.text, seen.input_channel) == (
        "telegram-3f2a", "who helps with transport", "telegram",
    )  # fmt: skip
    assert (seen.metadata, seen.message_id) == ({"source": "test"}, "90001")


def test_the_turn_endpoint_answers_no_slots_unless_asked(engine):
    async def go():
        async with turn_endpoint(engine) as (client, _rasa):
            return (await turn_call(client, TURN_BODY)).json()

    assert set(asyncio.run(go())) == {"messages"}


TOKEN_TABLE = [
    # the server's TURN_TOKEN, the Authorization header, status, answer
    ("", f"Bearer {TURN_TOKEN}", 403, {"error": "closed: TURN_TOKEN is not set"}),
    ("", None, 403, {"error": "closed: TURN_TOKEN is not set"}),
    (TURN_TOKEN, None, 401, {"error": "Authorization: Bearer <TURN_TOKEN> is required"}),
    (TURN_TOKEN, f"Basic {TURN_TOKEN}", 401,
     {"error": "Authorization: Bearer <TURN_TOKEN> is required"}),
    (TURN_TOKEN, "Bearer guess", 403, {"error": "wrong token"}),
    (TURN_TOKEN, f"Bearer {TURN_TOKEN}x", 403, {"error": "wrong token"}),
]  # fmt: skip


@pytest.mark.parametrize(("token", "authorization", "status", "error"), TOKEN_TABLE)
def test_the_turn_endpoint_runs_nothing_without_its_token(
    engine, token, authorization, status, error
):
    async def go():
        async with turn_endpoint(engine, token=token) as (client, rasa):
            return await turn_call(client, TURN_BODY, authorization), rasa

    answer, rasa = asyncio.run(go())
    assert (answer.status_code, answer.json()) == (status, error)
    assert rasa.seen == []
    if status == 401:
        assert answer.headers["WWW-Authenticate"] == "Bearer"


BAD_BODIES = [
    (b"{not json", "the body is not JSON"),
    (b"", "the body must be a JSON object"),
    (["sender", "text"], "the body must be a JSON object"),
    ({**TURN_BODY, "sender": ""}, "sender must be a string of 1 to 255 characters"),
    ({**TURN_BODY, "sender": "x" * 256}, "sender must be a string of 1 to 255 characters"),
    ({k: v for k, v in TURN_BODY.items() if k != "text"}, "text must be a string"),
    ({**TURN_BODY, "input_channel": None}, "input_channel must be a channel's name (a-z, 0-9, _)"),
    ({**TURN_BODY, "input_channel": "sms; drop"},
     "input_channel must be a channel's name (a-z, 0-9, _)"),
    ({**TURN_BODY, "metadata": ["a"]}, "metadata must be an object or null"),
    ({**TURN_BODY, "message_id": 7}, "message_id must be a string or null"),
    ({**TURN_BODY, "slots": ["erasure"]}, "slots may only name read_aloud"),
    ({**TURN_BODY, "slots": "read_aloud"}, "slots may only name read_aloud"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "error"), BAD_BODIES)
def test_the_turn_endpoint_refuses_a_body_that_is_not_a_turn(engine, body, error):
    async def go():
        async with turn_endpoint(engine) as (client, rasa):
            return await turn_call(client, body), rasa

    answer, rasa = asyncio.run(go())
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert rasa.seen == []


@pytest.mark.parametrize(
    ("behaviour", "status", "error"),
    [
        ("raise", 500, {"error": "the turn failed", "detail": "RuntimeError('Rasa is down')"}),
        ("action", 502, {
            "error": "an action failed",
            "detail": "Encountered an exception while running action 'action_signpost'."
                      "Bot will continue, but the actions events are lost.",
        }),
    ],
)  # fmt: skip
def test_a_turn_that_fails_is_not_an_answer(engine, behaviour, status, error):
    async def go():
        async with turn_endpoint(engine, behaviour=behaviour) as (client, _rasa):
            return await turn_call(client, TURN_BODY)

    answer = asyncio.run(go())
    assert (answer.status_code, answer.json()) == (status, error)


# -- the receiver against a fake Rasa turn endpoint ---------------------------------------


@dataclass
class Receiver:
    client: Any
    sms: SmsInput
    whatsapp: WhatsAppInput
    telegram: TelegramInput

    async def settle(self) -> None:
        for channel in (self.sms, self.whatsapp, self.telegram):
            await settle(channel.pipeline)

    async def update(self, update: dict[str, Any]) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        answer = await self.client.post(TELEGRAM, json=update, headers=headers)
        await self.settle()
        return answer.status_code


def channels_for(engine, telegram_api: FakeTelegram | None = None, **changes: Any):
    telegram = {}
    if telegram_api is not None:
        telegram = {
            "telegram_bot_token": TG_TOKEN, "telegram_webhook_secret": TG_SECRET,
            "telegram_api_base_url": telegram_api.base_url,
        }  # fmt: skip
    settings = dataclasses.replace(
        settings_for(engine, **{"sms_reply_within": 2.0, "turn_token": TURN_TOKEN, **telegram}),
        twilio_auth_token=TWILIO_TOKEN,  # what tests/test_twilio_webhooks.py signs with
        **changes,
    )
    made = (
        SmsInput(settings), WhatsAppInput(settings),
        TelegramInput(settings, SpeechSettings(engines=())),
    )  # fmt: skip
    for channel in made:
        quick(channel.pipeline)
    return settings, made


@asynccontextmanager
async def receiver(
    engine,
    rasa_url: str,
    telegram_api: FakeTelegram | None = None,
    token: str = TURN_TOKEN,
    timeout: float = 2.0,
    **changes: Any,
) -> AsyncIterator[Receiver]:
    """The receiver's app (its start and stop listeners run) with the real connectors."""
    settings, (sms, whatsapp, telegram) = channels_for(engine, telegram_api, **changes)
    agent = RemoteAgent(rasa_url, token, timeout)
    app = make_app(settings, agent, [sms, whatsapp, telegram], name=f"r{uuid.uuid4().hex[:12]}")
    async with lifespan_client(app) as client:
        running = Receiver(client, sms, whatsapp, telegram)
        yield running
        await running.settle()


def chat_message(chat: int, text: str, update_id: int) -> dict[str, Any]:
    body = {
        "message_id": update_id, "date": 1760000000, "text": text,
        "chat": {"id": chat, "type": "private", "first_name": "Sam"},
        "from": {"id": chat, "is_bot": False, "first_name": "Sam"},
    }  # fmt: skip
    return {"update_id": update_id, "message": body}


@pytest.fixture
def fake_telegram():
    with FakeTelegram(TG_TOKEN) as running:
        yield running


def test_a_real_twilio_sms_is_stored_turned_on_rasa_and_answered_in_twiml(engine):
    async def go():
        async with FakeRasaTurns(TURN_TOKEN) as rasa, receiver(engine, rasa.url) as running:
            answer = await post(running.client, SMS, raw("sms_inbound.txt"))
            await running.settle()
        return answer, rasa

    answer, rasa = asyncio.run(go())
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    assert message_texts(answer.text) == [f"You said: {SIGNED_TEXT}"]
    assert rasa.bodies == [
        {
            "sender": SIGNED_SENDER, "text": SIGNED_TEXT, "input_channel": "sms",
            "metadata": None, "message_id": SIGNED_SID,
        }
    ]  # fmt: skip
    assert statuses(engine) == ["replied"]


def test_a_forged_or_altered_sms_never_reaches_rasa(engine):
    async def go():
        async with FakeRasaTurns(TURN_TOKEN) as rasa, receiver(engine, rasa.url) as running:
            body = raw("sms_inbound.txt")
            good = signature(f"{PUBLIC_URL}{SMS}", body)
            codes = []
            for content, sig in [
                (changed(body, Body="erase sms-123"), good),  # altered after signing
                (body, signature(f"{PUBLIC_URL}{SMS}", body, token="someone-elses-token")),
                (body, ""),  # unsigned
            ]:
                headers = {**FORM, "X-Twilio-Signature": sig}
                answer = await running.client.post(SMS, content=content.encode(), headers=headers)
                codes.append(answer.status_code)
        return codes, rasa

    codes, rasa = asyncio.run(go())
    assert codes == [403, 403, 403]
    assert rasa.bodies == [] and inbound_rows(engine) == []


def test_a_repeated_message_sid_is_answered_once(engine):
    async def go():
        async with FakeRasaTurns(TURN_TOKEN) as rasa, receiver(engine, rasa.url) as running:
            answers = []
            for _ in range(3):
                answer = await post(running.client, SMS, raw("sms_inbound.txt"))
                answers.append(message_texts(answer.text))
                await running.settle()
        return answers, rasa

    answers, rasa = asyncio.run(go())
    assert answers == [[f"You said: {SIGNED_TEXT}"], [], []]
    assert rasa.texts == [SIGNED_TEXT]
    assert statuses(engine) == ["replied"]


MENU_ANSWER = [
    {
        "text": "These can help:\n\n1. SEND Travel Assistance",
        "buttons": [
            {"title": "More options", "payload": "/more_options"},
            {"title": "Talk to someone", "payload": "/talk_to_someone"},
        ],
    },
    {"text": "Is there anything else?\n\nYou can also call us."},
]


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_twilio_replies_are_the_same_as_in_one_process(engine, tmp_path, channel):
    """A menu with buttons and texts with blank lines: the receiver's TwiML, and then a
    numbered choice, are what the connector in the Rasa server gives for the same turn."""
    path = f"/webhooks/{channel}/webhook"
    sender = "whatsapp:+447700900333" if channel == "whatsapp" else "+447700900333"

    def params(body: str, sid: str) -> dict[str, str]:
        return {"MessageSid": sid, "From": sender, "To": "+447700900000", "Body": body}

    async def conversation(client) -> list[list[str]]:
        replies = []
        for n, body in enumerate(["who helps", "2"]):
            form = params(body, f"SM{channel}{n:030d}")
            answer = await client.post(path, **signed_form(path, form))
            replies.append(message_texts(answer.text))
        return replies

    plan = {"who helps": MENU_ANSWER}

    async def through_receiver():
        async with FakeRasaTurns(TURN_TOKEN, plan) as rasa, receiver(engine, rasa.url) as r:
            replies = await conversation(r.client)
        return replies, rasa.texts

    async def in_one_process():
        other = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
        upgrade(other)
        _settings, (sms, whatsapp, _telegram) = channels_for(other)
        made = sms if channel == "sms" else whatsapp
        turn = StubTurn(plan)
        async with client_for(made, turn) as client:
            replies = await conversation(client)
            await settle(made.pipeline)
        other.dispose()
        return replies, turn.texts

    remote, remote_turns = asyncio.run(through_receiver())
    local, local_turns = asyncio.run(in_one_process())
    assert remote == local
    assert remote_turns == local_turns == ["who helps", "/talk_to_someone"]
    assert len(remote[0]) == 1 and "1. SEND Travel Assistance" in remote[0][0]


def signed_form(path: str, params: dict[str, str]) -> dict[str, Any]:
    from tests.channel_helpers import signed

    return signed(path, params, token=TWILIO_TOKEN)


def test_telegram_is_acknowledged_and_answered_through_the_bot_api(engine, fake_telegram):
    plan = {"who helps": MENU_ANSWER}

    async def go():
        async with (
            FakeRasaTurns(TURN_TOKEN, plan, slots={"read_aloud": True}) as rasa,
            receiver(engine, rasa.url, fake_telegram) as running,
        ):
            codes = [await running.update(chat_message(601, "who helps", 70001))]
            codes.append(await running.update(chat_message(601, "who helps", 70001)))  # again
        return codes, rasa

    codes, rasa = asyncio.run(go())
    assert codes == [200, 200]
    sent = fake_telegram.sent_to(601)
    # Each message whole (not split at its blank line), the keyboard on the first, then
    # the note that no audio could be made: Rasa said read_aloud is on.
    assert [c.text for c in sent] == [
        "These can help:\n\n1. SEND Travel Assistance",
        "Is there anything else?\n\nYou can also call us.",
        NO_AUDIO_TEXT,
    ]
    assert [title for title, _data in sent[0].buttons] == ["More options", "Talk to someone"]
    assert rasa.bodies == [
        {
            "sender": pseudonymise(KEY, "telegram", "601"), "text": "who helps",
            "input_channel": "telegram", "metadata": None, "message_id": "70001",
            "slots": ["read_aloud"],
        }
    ]  # fmt: skip
    assert statuses(engine) == ["replied"]


def test_telegram_without_read_aloud_gets_text_only(engine, fake_telegram):
    async def go():
        async with (
            FakeRasaTurns(TURN_TOKEN, slots={"read_aloud": False}) as rasa,
            receiver(engine, rasa.url, fake_telegram) as running,
        ):
            await running.update(chat_message(602, "hello", 70002))

    asyncio.run(go())
    assert [c.text for c in fake_telegram.sent_to(602)] == ["You said: hello"]


FAILURES = [
    # how Rasa fails, does the fake turn endpoint see the turn tried again?
    ("down", False),  # nothing listens: connection refused (the fake never sees it)
    ("fail", True),  # 500: the turn raised
    ("action", True),  # 502: the action server failed
    ("proxy", True),  # 503 with an HTML page: the load balancer found no Rasa server
    ("hang", True),  # no answer within the receiver's time-out
    ("refused", False),  # the receiver's token is not Rasa's (403): refused each time
]


@asynccontextmanager
async def failing_rasa(engine, how: str, telegram_api: FakeTelegram | None = None):
    plan = {text: how for text in ("who helps with transport", CRISIS)}
    async with FakeRasaTurns(TURN_TOKEN, plan) as rasa:
        url = f"http://127.0.0.1:{free_port()}{TURN}" if how == "down" else rasa.url
        token = "not-the-token" if how == "refused" else TURN_TOKEN
        async with receiver(engine, url, telegram_api, token=token, timeout=0.1) as running:
            yield running, rasa


@pytest.mark.parametrize(("how", "retried"), FAILURES)
def test_when_rasa_fails_an_sms_gets_the_apology(engine, how, retried):
    async def go():
        async with failing_rasa(engine, how) as (running, rasa):
            form = {"MessageSid": "SM" + "d" * 32, "From": "+447700900444",
                    "To": "+447700900000", "Body": "who helps with transport"}  # fmt: skip
            answer = await running.client.post(SMS, **signed_form(SMS, form))
        return message_texts(answer.text), rasa

    texts, rasa = asyncio.run(go())
    assert texts == [SMS_SORRY]
    assert statuses(engine) == ["apologised"]
    if retried:
        assert len(rasa.bodies) >= 2  # tried again before the apology
        assert set(rasa.texts) == {"who helps with transport"}
    else:
        assert rasa.bodies == []
    assert set(rasa.refused) == ({403} if how == "refused" else set())


def flags(engine) -> list[tuple[str, str, str | None]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(SafetyFlagRow.channel, SafetyFlagRow.conversation_id, SafetyFlagRow.category)
        ).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]


@pytest.mark.parametrize(("how", "_retried"), FAILURES)
def test_when_rasa_fails_a_crisis_gets_the_emergency_reply_and_a_flag(engine, how, _retried):
    async def go():
        async with failing_rasa(engine, how) as (running, _rasa):
            form = {"MessageSid": "SM" + "e" * 32, "From": "+447700900555",
                    "To": "+447700900000", "Body": CRISIS}  # fmt: skip
            answer = await running.client.post(SMS, **signed_form(SMS, form))
        return message_texts(answer.text)

    (text,) = asyncio.run(go())
    assert EMERGENCY_LINE in text
    assert statuses(engine) == ["failed_crisis"]
    ((channel, conversation, category),) = flags(engine)
    assert (channel, conversation) == ("sms", pseudonymise(KEY, "sms", "+447700900555"))
    assert category


def test_when_rasa_is_down_telegram_gets_the_apology_and_a_crisis_the_emergency_reply(
    engine, fake_telegram
):
    async def go():
        async with failing_rasa(engine, "down", fake_telegram) as (running, _rasa):
            await running.update(chat_message(603, "who helps with transport", 70003))
            await running.update(chat_message(604, CRISIS, 70004))

    asyncio.run(go())
    assert [c.text for c in fake_telegram.sent_to(603)] == [TELEGRAM_SORRY]
    (help_text,) = (c.text for c in fake_telegram.sent_to(604))
    assert EMERGENCY_LINE in help_text
    assert statuses(engine) == ["apologised", "failed_crisis"]
    assert [f[:2] for f in flags(engine)] == [("telegram", pseudonymise(KEY, "telegram", "604"))]


def test_the_receiver_answers_health_and_serves_only_its_channels(engine):
    async def go():
        async with FakeRasaTurns(TURN_TOKEN) as rasa, receiver(engine, rasa.url) as running:
            health = await running.client.get("/health")
            voice = await running.client.post("/webhooks/voice/webhook")
            turn = await running.client.post(TURN, json=TURN_BODY)
        return health, voice.status_code, turn.status_code

    health, voice, turn = asyncio.run(go())
    assert (health.status_code, health.json()) == (
        200, {"status": "ok", "channels": ["sms", "whatsapp", "telegram"]},
    )  # fmt: skip
    assert (voice, turn) == (404, 404)


# -- the receiver's process ---------------------------------------------------------------


def test_the_receiver_loads_neither_tensorflow_nor_rasas_agent():
    probe = (
        "import sys\n"
        "from bot.config import load_settings\n"
        "from channels.receiver import make_app\n"
        "make_app(load_settings())\n"
        "print(sorted(m for m in ('tensorflow', 'rasa.core.agent', 'rasa.core.processor',"
        " 'rasa.model_training') if m in sys.modules))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT)}
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert found.stdout.strip().splitlines()[-1] == "[]"


def test_the_receiver_will_not_start_without_a_turn_token(monkeypatch, capsys):
    monkeypatch.setenv("TURN_TOKEN", "")
    assert receiver_module.main(["--port", str(free_port())]) == 1
    assert "TURN_TOKEN is not set" in capsys.readouterr().err


def test_real_credentials_with_the_example_turn_token_refuse_to_start(engine):
    from bot.config import PUBLIC_TURN_TOKENS, exit_if_unsafe, unsafe_settings

    (example,) = PUBLIC_TURN_TOKENS
    # a private pseudonym key and no credentials
    base = dataclasses.replace(settings_for(engine, turn_token=example), twilio_auth_token="")
    assert unsafe_settings(base) is None  # a trial with no credentials may use it
    real = dataclasses.replace(base, telegram_bot_token="123:abc")
    reason = unsafe_settings(real)
    assert reason is not None and reason.startswith("Refusing to start: TELEGRAM_BOT_TOKEN")
    assert "TURN_TOKEN is an example" in reason
    with pytest.raises(SystemExit, match="TURN_TOKEN"):
        exit_if_unsafe(real)
    assert unsafe_settings(dataclasses.replace(real, turn_token="a-long-secret")) is None


def test_the_shipped_example_turn_tokens_are_the_ones_refused_with_real_credentials():
    import re

    from bot.config import PUBLIC_TURN_TOKENS

    compose = (PROJECT_ROOT / "compose.yaml").read_text()
    k8s = (PROJECT_ROOT / "deploy" / "k8s" / "config.yaml").read_text()
    shipped = set(re.findall(r"TURN_TOKEN: \$\{TURN_TOKEN:-([^}]*)\}", compose))
    shipped |= set(re.findall(r"^\s+TURN_TOKEN: (\S+)$", k8s, re.MULTILINE))
    assert shipped == set(PUBLIC_TURN_TOKENS)
