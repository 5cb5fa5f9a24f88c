"""The message pipeline through each adapter, fast: a stub turn instead of Rasa, the real
Sanic app and twilio library, the real python-telegram-bot against a fake Bot API, and a
temporary database. Statuses, replies and outbox rows are checked exactly."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot import contacts
from bot.contacts import ContactRow, InboundRow, OptOutRow
from bot.db import session_scope, utcnow
from bot.notify.outbox import OutboxRow
from bot.privacy import pseudonymise
from bot.safety import EMERGENCY_LINE, check_message
from channels import sms as sms_channel
from channels import whatsapp as whatsapp_channel
from channels.pipeline import STORING, Inbound, InlineReply, Job, Kind, Pipeline, Status, Storing
from channels.sms import SmsInput
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
    sids,
    signed,
)

CRISIS = "my dad hits me and im scared to go home"
TWILIO = {"twilio_account_sid": "AC" + "1" * 32, "twilio_from_number": "+447700900000"}
PATH = {"sms": "/webhooks/sms/webhook", "whatsapp": "/webhooks/whatsapp/webhook"}
MENU = [
    {
        "text": "These can help:",
        "buttons": [
            {"title": "More options", "payload": "/more_options"},
            {"title": "Talk to someone", "payload": "/talk_to_someone"},
        ],
    }
]


def connector(engine, channel: str = "sms", **changes: Any) -> SmsInput:
    cls = WhatsAppInput if channel == "whatsapp" else SmsInput
    if changes.get("sms_reply_within") == 0:  # only with Twilio to send the replies
        changes = {**TWILIO, **changes}
    made = cls(settings_for(engine, **{"sms_reply_within": 2.0, **changes}))
    quick(made.pipeline)
    return made


def address(channel: str, phone: str) -> str:
    return f"whatsapp:{phone}" if channel == "whatsapp" else phone


class Phone:
    """Someone texting a connector: ``send`` returns the TwiML answer's messages."""

    def __init__(self, client, channel: str, phone: str = "+447700900111") -> None:
        self.client, self.channel, self.phone = client, channel, phone

    async def post(self, body: str | None, sid: str | None = None, **extra: str):
        params = {
            "MessageSid": sid or next(sids), "AccountSid": "AC" + "1" * 32,
            "From": address(self.channel, self.phone), "To": address(self.channel, "+447700900000"),
            "NumMedia": "0", **extra,
        }  # fmt: skip
        if body is not None:
            params["Body"] = body
        return await self.client.post(PATH[self.channel], **signed(PATH[self.channel], params))

    async def send(self, body: str | None, **kwargs: Any) -> list[str]:
        answer = await self.post(body, **kwargs)
        assert answer.status_code == 200, answer.text
        return message_texts(answer.text)

    @property
    def sender(self) -> str:
        return pseudonymise(KEY, self.channel, self.phone)


def outbox(engine) -> list[tuple[str, str, str, str | None]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
        return [(r.channel, r.recipient, r.body, r.dedupe_key) for r in rows]


def statuses(engine) -> list[str]:
    return [row[3] for row in inbound_rows(engine)]


CHANNELS = pytest.mark.parametrize("channel", ["sms", "whatsapp"])


@pytest.fixture(scope="module", autouse=True)
def detector_loaded():
    """The crisis detector's model loaded first, as the servers do when they start: the
    check now runs inside the time a webhook waits for its TwiML answer."""
    check_message("hello")


@CHANNELS
def test_a_question_is_stored_answered_in_twiml_and_marked_replied(engine, channel):
    async def go():
        made, turn = connector(engine, channel), StubTurn()
        async with client_for(made, turn) as client:
            phone = Phone(client, channel)
            assert await phone.send("who helps with school transport") == [
                "You said: who helps with school transport"
            ]
            await settle(made.pipeline)
        return phone, turn

    phone, turn = asyncio.run(go())
    assert [(m.sender_id, m.input_channel) for m in turn.seen] == [(phone.sender, channel)]
    assert phone.sender.startswith(f"{channel}-")
    assert [r[::2] for r in inbound_rows(engine)] == [(channel, "text")]
    assert statuses(engine) == ["replied"]
    with session_scope(engine) as session:
        contact = session.get(ContactRow, phone.sender)
        assert (contact.channel, contact.address) == (channel, "+447700900111")
        assert contact.last_inbound_at is not None  # WhatsApp's 24-hour rule needs it


@CHANNELS
def test_forged_and_unsigned_requests_get_403_and_store_nothing(engine, channel):
    async def go():
        made, turn = connector(engine, channel), StubTurn()
        async with client_for(made, turn) as client:
            params = {"MessageSid": next(sids), "From": address(channel, "+447700900222"),
                      "Body": "hello"}  # fmt: skip
            wrong = await client.post(PATH[channel], **signed(PATH[channel], params, "guess"))
            body = signed(PATH[channel], params)
            form_only = {"Content-Type": body["headers"]["Content-Type"]}
            unsigned = await client.post(PATH[channel], content=body["content"], headers=form_only)
            tampered = signed(PATH[channel], {**params, "Body": "original"})
            tampered["content"] = tampered["content"].replace("original", "changed")
            changed = await client.post(PATH[channel], **tampered)
        return [wrong.status_code, unsigned.status_code, changed.status_code], turn

    codes, turn = asyncio.run(go())
    assert codes == [403, 403, 403]
    assert turn.seen == [] and inbound_rows(engine) == []


@CHANNELS
def test_a_repeated_message_sid_is_answered_once(engine, channel):
    async def go():
        made, turn = connector(engine, channel), StubTurn()
        async with client_for(made, turn) as client:
            phone = Phone(client, channel)
            answers = [await phone.send("hello", sid="SMrepeat") for _ in range(3)]
            await settle(made.pipeline)
        return answers, turn

    answers, turn = asyncio.run(go())
    assert answers == [["You said: hello"], [], []]
    assert turn.texts == ["hello"]
    assert statuses(engine) == ["replied"]


STOP_TABLE = [
    # channel, what the STOP gets back
    ("sms", []),  # Twilio's carrier opt-out confirms it
    ("whatsapp", [whatsapp_channel.STOPPED_TEXT]),
]


@pytest.mark.parametrize(("channel", "stopped"), STOP_TABLE)
def test_stop_silences_until_start_but_a_crisis_still_gets_help(engine, channel, stopped):
    async def go():
        made, turn = connector(engine, channel), StubTurn()
        async with client_for(made, turn) as client:
            phone = Phone(client, channel)
            replies = [
                await phone.send("STOP"),
                await phone.send("who helps with school transport"),
                await phone.send("stop"),
                await phone.send(CRISIS),
                await phone.send("START"),
                await phone.send("hello again"),
            ]
            await settle(made.pipeline)
        return replies, turn, phone

    replies, turn, phone = asyncio.run(go())
    assert replies[0] == stopped and replies[1:3] == [[], []]
    (help_text,) = replies[3]
    assert EMERGENCY_LINE in help_text
    assert replies[4] == [made_resumed(channel)]
    assert replies[5] == ["You said: hello again"]
    assert turn.texts == ["hello again"]  # nothing else reached Rasa
    assert statuses(engine) == [
        "stopped", "opted_out", "opted_out", "crisis", "resumed", "replied",
    ]  # fmt: skip
    with session_scope(engine) as session:
        assert session.get(OptOutRow, phone.sender) is None


def test_with_no_wait_after_stop_only_a_crisis_gets_a_reply_by_the_outbox(engine):
    """SMS_REPLY_WITHIN=0 (the scaled shape): after STOP, an ordinary question gets
    nothing and a crisis gets the emergency reply, by the outbox; Rasa sees neither."""

    async def go():
        made, turn = connector(engine, sms_reply_within=0), StubTurn()
        async with client_for(made, turn) as client:
            phone = Phone(client, "sms")
            for sid, body in (("SMa", "STOP"), ("SMb", "who helps with transport"),
                              ("SMc", "I feel like taking all my pills")):  # fmt: skip
                assert await phone.send(body, sid=sid) == []
                await settle(made.pipeline)
        return turn, phone

    turn, phone = asyncio.run(go())
    [(channel, recipient, body, key)] = outbox(engine)
    assert (channel, recipient, key) == ("sms", phone.sender, "sms-reply:SMc")
    assert EMERGENCY_LINE in body and "116 123" in body  # 999 and Samaritans
    assert turn.texts == []
    assert statuses(engine) == ["stopped", "opted_out", "crisis"]


def made_resumed(channel: str) -> str:
    return whatsapp_channel.RESUMED_TEXT if channel == "whatsapp" else sms_channel.RESUMED_TEXT


def test_stop_inside_a_feedback_form_still_opts_out_without_a_turn(engine):
    """Rasa's form never sees the carrier keyword: the channel opts the person out."""
    plan = {"I want to give feedback": [{"text": "Which service is it about?"}]}

    async def go():
        made, turn = connector(engine, "whatsapp"), StubTurn(plan)
        async with client_for(made, turn) as client:
            phone = Phone(client, "whatsapp")
            first = await phone.send("I want to give feedback")
            stopped = await phone.send("Stop")
            await settle(made.pipeline)
        return first, stopped, turn

    first, stopped, turn = asyncio.run(go())
    assert first == ["Which service is it about?"]
    assert stopped == [whatsapp_channel.STOPPED_TEXT]
    assert turn.texts == ["I want to give feedback"]


FIXED_TABLE = [
    # channel, body, NumMedia, the answer, status
    ("sms", "HELP", "0", sms_channel.HELP_TEXT, "help"),
    ("whatsapp", "help", "0", whatsapp_channel.HELP_TEXT, "help"),
    ("sms", None, "1", sms_channel.MEDIA_TEXT, "unreadable"),  # an MMS picture, no words
    ("whatsapp", None, "1", whatsapp_channel.MEDIA_TEXT, "unreadable"),  # a voice note
    ("sms", "   ", "0", sms_channel.EMPTY_TEXT, "unreadable"),
    ("whatsapp", None, "0", whatsapp_channel.EMPTY_TEXT, "unreadable"),
]


@pytest.mark.parametrize(("channel", "body", "media", "answer", "status"), FIXED_TABLE)
def test_help_media_and_empty_messages_get_a_kind_fixed_answer(
    engine, channel, body, media, answer, status
):
    async def go():
        made, turn = connector(engine, channel), StubTurn()
        async with client_for(made, turn) as client:
            extra = {"MediaUrl0": "https://api.twilio.com/x", "MediaContentType0": "image/jpeg"}
            texts = await Phone(client, channel).send(
                body, NumMedia=media, **(extra if media != "0" else {})
            )
            await settle(made.pipeline)
        return texts, turn

    texts, turn = asyncio.run(go())
    assert texts == [answer] and turn.seen == []
    assert statuses(engine) == [status]


def test_a_picture_with_words_is_read_as_words(engine):
    async def go():
        made, turn = connector(engine), StubTurn()
        async with client_for(made, turn) as client:
            texts = await Phone(client, "sms").send(
                "is this ramp ok", NumMedia="1", MediaUrl0="https://api.twilio.com/x"
            )
            await settle(made.pipeline)
        return texts

    assert asyncio.run(go()) == ["You said: is this ramp ok"]
    assert [r[2] for r in inbound_rows(engine)] == ["text"]


@CHANNELS
def test_a_flood_gets_one_polite_reply_then_silence(engine, channel):
    async def go():
        made, turn = connector(engine, channel), StubTurn()
        async with client_for(made, turn) as client:
            phone = Phone(client, channel)
            answers = [await phone.send(f"hello {n}") for n in range(22)]
            crisis = await phone.send(CRISIS)
            await settle(made.pipeline)
        return answers, crisis, made

    answers, crisis, made = asyncio.run(go())
    assert all(a == [f"You said: hello {n}"] for n, a in enumerate(answers[:20]))
    assert answers[20:] == [[made.flood_text], []]
    assert EMERGENCY_LINE in crisis[0]  # a crisis is never held back by the flood limit
    assert statuses(engine)[20:22] == ["flood", "flood"]


@CHANNELS
def test_a_number_picks_from_the_last_menu(engine, channel):
    async def go():
        made, turn = connector(engine, channel), StubTurn({"respite": MENU})
        async with client_for(made, turn) as client:
            phone = Phone(client, channel)
            menu = await phone.send("respite")
            picked = await phone.send("2")
            again = await phone.send("2")  # the menu went with the last answer
            await settle(made.pipeline)
        return menu, picked, again, turn

    menu, picked, again, turn = asyncio.run(go())
    assert menu == ["These can help:\nReply 1 More options, 2 Talk to someone."]
    assert picked == ["You said: /talk_to_someone"]
    assert again == ["You said: 2"]
    assert turn.texts == ["respite", "/talk_to_someone", "2"]


def test_whatsapp_keeps_its_characters_and_sms_is_plain(engine):
    plan = {"hi": [{"text": "We\u2019re here \u2014 ask away \U0001f60a"}]}

    async def go(channel: str):
        made = connector(engine, channel)
        async with client_for(made, StubTurn(plan)) as client:
            texts = await Phone(client, channel, "+447700900333").send("hi")
            await settle(made.pipeline)
        return texts

    assert asyncio.run(go("whatsapp")) == ["We\u2019re here \u2014 ask away \U0001f60a"]
    assert asyncio.run(go("sms")) == ["We're here - ask away"]


FAILURE_TABLE = [
    # what the turn does, how often it is tried, the status
    ("fail", "many", "apologised"),
    ("hang", "many", "apologised"),
    ("empty", "many", "apologised"),
    ("action", "many", "apologised"),  # the action server failed; Rasa carried on
    ("fail 1", 2, "replied"),  # one failure, then it works: no apology
]


@pytest.mark.parametrize(("behaviour", "tries", "status"), FAILURE_TABLE)
@CHANNELS
def test_a_failing_turn_is_retried_then_apologised_for(engine, channel, behaviour, tries, status):
    async def go():
        made = connector(engine, channel)
        made.pipeline.turn_timeout = 0.2
        turn = StubTurn({"who helps with transport": behaviour})
        async with client_for(made, turn) as client:
            texts = await Phone(client, channel).send("who helps with transport")
            await settle(made.pipeline)
        return texts, turn, made

    texts, turn, made = asyncio.run(go())
    if status == "apologised":
        assert texts == [made.apology_text]
        assert len(turn.seen) >= 2  # tried again before giving up
    else:
        assert texts == ["You said: who helps with transport"] and len(turn.seen) == tries
    assert statuses(engine) == [status]


@CHANNELS
def test_a_crisis_whose_turn_fails_gets_the_emergency_reply(engine, channel):
    async def go():
        made, turn = connector(engine, channel), StubTurn({CRISIS: "fail"})
        async with client_for(made, turn) as client:
            texts = await Phone(client, channel).send(CRISIS)
            await settle(made.pipeline)
        return texts

    (text,) = asyncio.run(go())
    assert EMERGENCY_LINE in text
    assert statuses(engine) == ["failed_crisis"]


@CHANNELS
def test_a_crisis_whose_turn_fails_gets_the_emergency_reply_at_once_not_after_the_retries(
    engine, channel
):
    """The action server down: the turn fails fast, again and again. The emergency reply
    goes after the first failure (in the TwiML answer), not after 15 s of retries."""

    async def go():
        made, turn = connector(engine, channel, sms_reply_within=20.0), StubTurn({CRISIS: "fail"})
        made.pipeline.retry_for, made.pipeline.first_pause = 3.0, 0.5
        async with client_for(made, turn) as client:
            started = asyncio.get_running_loop().time()
            texts = await Phone(client, channel).send(CRISIS)
            took = asyncio.get_running_loop().time() - started
            await settle(made.pipeline)
        return texts, took, turn

    (text,), took, turn = asyncio.run(go())
    assert EMERGENCY_LINE in text and took < 1.0
    assert len(turn.seen) >= 3  # the turn was still tried again after it
    assert statuses(engine) == ["failed_crisis"]
    assert outbox(engine) == []  # and nothing more was sent: no apology after it


def test_a_crisis_answered_without_the_emergency_numbers_gets_them_first(engine):
    async def go():
        made, turn = connector(engine), StubTurn()
        async with client_for(made, turn) as client:
            texts = await Phone(client, "sms").send(CRISIS)
            await settle(made.pipeline)
        return texts

    (text,) = asyncio.run(go())
    assert EMERGENCY_LINE in text.splitlines()[1]
    assert text.endswith(f"You said: {CRISIS}")


@CHANNELS
@pytest.mark.parametrize(("reply_within", "delay"), [(0.1, 0.3), (0, 0.0)])
def test_a_slow_turn_or_no_wait_answers_through_the_outbox_once(
    engine, channel, reply_within, delay
):
    """A turn slower than SMS_REPLY_WITHIN, or SMS_REPLY_WITHIN=0 (the scaled shape's
    receivers: empty TwiML as soon as the message is stored): the reply goes by the
    outbox, once, even when Twilio delivers the message again."""

    async def go():
        made = connector(engine, channel, sms_reply_within=reply_within)
        turn = StubTurn(delay=delay)
        async with client_for(made, turn) as client:
            phone = Phone(client, channel)
            texts = await phone.send("who helps with school transport", sid="SMslow")
            again = await phone.send("who helps with school transport", sid="SMslow")
            await settle(made.pipeline)
        return texts, again, phone

    texts, again, phone = asyncio.run(go())
    assert texts == [] and again == []
    assert outbox(engine) == [
        (channel, phone.sender, "You said: who helps with school transport",
         f"{channel}-reply:SMslow"),
    ]  # fmt: skip
    assert statuses(engine) == ["queued"]


def test_a_slow_crisis_gets_the_emergency_reply_at_once_and_the_rest_later(engine):
    async def go():
        made = connector(engine, sms_reply_within=0.1)
        made.pipeline.crisis_within = 2.0
        emergency = "I am worried about you.\nIf someone is in danger right now, call 999."
        turn = StubTurn({CRISIS: [{"text": emergency}, {"text": "Shall I find local help?"}]})
        turn.delay = 0.4
        async with client_for(made, turn) as client:
            texts = await Phone(client, "sms").send(CRISIS, sid="SMcrisis")
            await settle(made.pipeline)
        return texts

    (now,) = asyncio.run(go())
    assert EMERGENCY_LINE in now
    [(channel, _, later, key)] = outbox(engine)
    assert (channel, later, key) == ("sms", "Shall I find local help?", "sms-reply:SMcrisis")


def test_no_wait_without_twilio_answers_in_twiml_as_a_local_trial_could_not_see_replies(engine):
    """SMS_REPLY_WITHIN=0 with no Twilio credentials: the outbox could only log replies,
    so the webhook waits for the TwiML answer instead (3 s)."""

    async def go():
        made = SmsInput(settings_for(engine, sms_reply_within=0))
        quick(made.pipeline)
        async with client_for(made, StubTurn()) as client:
            texts = await Phone(client, "sms").send("who helps with school transport")
            await settle(made.pipeline)
        return made, texts

    made, texts = asyncio.run(go())
    assert made.reply_within == sms_channel.LOCAL_REPLY_WITHIN == 3.0
    assert texts == ["You said: who helps with school transport"]
    assert outbox(engine) == [] and statuses(engine) == ["replied"]


@pytest.mark.parametrize("behaviour", ["answer", "fail", "slow"])
def test_with_no_wait_a_crisis_still_gets_the_emergency_reply_first_by_the_outbox(
    engine, behaviour
):
    """The crisis check runs after the acknowledgement, not before it: the emergency reply
    still goes first (with Rasa's answer, alone when the turn fails or is slow), and once."""

    async def go():
        made = connector(engine, sms_reply_within=0)
        made.pipeline.crisis_within, made.pipeline.turn_timeout = 0.2, 5.0
        turn = StubTurn({CRISIS: "fail"} if behaviour == "fail" else {})
        turn.delay = 0.6 if behaviour == "slow" else 0.0
        async with client_for(made, turn) as client:
            texts = await Phone(client, "sms").send(CRISIS, sid="SMcrisis0")
            await settle(made.pipeline)
        return texts

    assert asyncio.run(go()) == []
    sent = outbox(engine)
    assert EMERGENCY_LINE in sent[0][2]
    assert sum(EMERGENCY_LINE in body for _, _, body, _ in sent) == 1
    if behaviour == "answer":
        assert [key for *_, key in sent] == ["sms-reply:SMcrisis0"]
        assert sent[0][2].endswith(f"You said: {CRISIS}")
        assert statuses(engine) == ["queued"]
    elif behaviour == "fail":
        assert [key for *_, key in sent] == ["sms-help:SMcrisis0"]
        assert statuses(engine) == ["failed_crisis"]
    else:
        assert [(body, key) for _, _, body, key in sent[1:]] == [
            (f"You said: {CRISIS}", "sms-reply:SMcrisis0")
        ]
        assert sent[0][3] == "sms-help:SMcrisis0"
        assert statuses(engine) == ["queued"]


@CHANNELS
def test_an_emergency_reply_the_webhook_sent_while_the_reply_was_stored_is_not_sent_again(
    engine, channel
):
    """The race `make bench` found: a crisis turn ends just before the webhook stops
    waiting; while the adapter stores the reply's menu, the webhook's time is up and it
    sends the emergency reply in TwiML. The reply then queued must leave it out."""
    emergency = "I am worried about you.\nIf someone is in danger right now, call 999."

    async def go() -> Status:
        made = connector(engine, channel)
        phone = address(channel, "+447700900999")
        inbound = Inbound(channel, "SMrace", f"{channel}-race", phone, CRISIS)
        job = Job(inbound, engine, crisis=True, inline=InlineReply())
        delivering = asyncio.create_task(
            made.deliver(job, [{"text": emergency}, {"text": "Shall I find local help?"}], True)
        )
        await asyncio.sleep(0)  # the adapter waits on the database (the menu) ...
        job.inline.close()  # ... when the webhook's time is up and it sends the emergency
        job.emergency_sent = True
        return await delivering

    assert asyncio.run(go()) is Status.QUEUED
    [(_, _, later, key)] = outbox(engine)
    assert (later, key) == ("Shall I find local help?", f"{channel}-reply:SMrace")


def test_whatsapp_is_a_push_channel_for_case_updates_and_you_said():
    from actions.cases import UPDATES
    from bot.feedback import you_said
    from bot.routing import cases

    assert "whatsapp" in cases.PUSH_CHANNELS and "whatsapp" in you_said.PUSH_CHANNELS
    assert UPDATES["whatsapp"] == "I will message you on WhatsApp when it changes."


# -- after a restart -----------------------------------------------------------------------


def _left_unanswered(engine, channel: str, sid: str, text: str, minutes: int = 5) -> str:
    """A message stored by a process that died before answering it."""
    phone = "+447700900444"
    sender = pseudonymise(KEY, channel, phone)
    arrival = contacts.admit(engine, channel, sid, sender, phone, text)
    assert arrival.new
    with session_scope(engine) as session:
        session.execute(
            update(InboundRow)
            .where(InboundRow.external_id == sid)
            .values(received_at=utcnow() - timedelta(minutes=minutes))
        )
    return sender


@CHANNELS
def test_a_message_left_unanswered_by_a_dead_process_is_answered_once_after_restart(
    engine, channel
):
    sender = _left_unanswered(engine, channel, "SMlost", "who helps with school transport")
    _left_unanswered(engine, channel, "SMnew", "a message still being answered", minutes=0)
    _left_unanswered(engine, channel, "SMold", "a message from last week", minutes=60 * 24 * 7)

    async def go():
        made, turn = connector(engine, channel), StubTurn()
        first = await made.pipeline.recover(made, turn)
        second = await made.pipeline.recover(made, turn)  # another server, or a later sweep
        return first, second, turn

    first, second, turn = asyncio.run(go())
    assert first == [Status.QUEUED] and second == []
    assert turn.texts == ["who helps with school transport"]
    assert outbox(engine) == [
        (channel, sender, "You said: who helps with school transport", f"{channel}-reply:SMlost")
    ]
    assert statuses(engine) == ["queued", "received", "received"]


def test_a_message_that_keeps_killing_the_server_gets_an_apology_in_the_end(engine):
    _left_unanswered(engine, "sms", "SMpoison", "a message that crashes everything")
    with session_scope(engine) as session:
        session.execute(update(InboundRow).values(attempts=Pipeline.max_attempts))

    async def go():
        made, turn = connector(engine), StubTurn()
        return await made.pipeline.recover(made, turn), turn

    result, turn = asyncio.run(go())
    assert result == [Status.APOLOGISED] and turn.seen == []
    assert [row[2] for row in outbox(engine)] == [sms_channel.SORRY_TEXT]


def test_two_servers_sweeping_at_once_take_each_message_once(engine):
    for n in range(6):
        _left_unanswered(engine, "sms", f"SMrace{n}", f"question {n}")
    claims = [
        contacts.claim_unanswered(engine, "sms", timedelta(minutes=2), timedelta(hours=24))
        for _ in range(2)
    ]
    assert len(claims[0]) == 6 and claims[1] == []


def test_every_status_fits_the_column_and_only_received_is_unfinished():
    assert all(len(status.value) <= 16 for status in Status)
    assert Status("received") is Status.RECEIVED
    assert Inbound("sms", "SM1", "sms-x", "+44", kind=Kind.MEDIA).stored_text == "(not text)"


# -- Telegram ------------------------------------------------------------------------------

TELEGRAM_TOKEN, SECRET = "123:ABC", "s3cret"
TELEGRAM_PATH = "/webhooks/telegram/webhook"
update_ids = iter(range(90000, 99999))


@pytest.fixture
def fake_telegram():
    from tests.fakes.telegram_api import FakeTelegram

    with FakeTelegram(TELEGRAM_TOKEN) as running:
        yield running


def telegram_connector(engine, fake):
    from channels.telegram import TelegramInput

    made = TelegramInput(
        settings_for(
            engine,
            telegram_bot_token=TELEGRAM_TOKEN,
            telegram_webhook_secret=SECRET,
            telegram_api_base_url=fake.base_url,
        )
    )
    quick(made.pipeline)
    return made


def chat_message(chat: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
    update_id = next(update_ids)
    body = {
        "message_id": update_id, "date": 1760000000,
        "chat": {"id": chat, "type": "private", "first_name": "Sam"},
        "from": {"id": chat, "is_bot": False, "first_name": "Sam"},
        **({"text": text} if text is not None else {}), **extra,
    }  # fmt: skip
    return {"update_id": update_id, "message": body}


def press(chat: int, data: str) -> dict[str, Any]:
    update_id = next(update_ids)
    shown = {"message_id": 1, "date": 1760000000, "chat": {"id": chat, "type": "private"}}
    query = {"id": f"q{update_id}", "chat_instance": "1", "data": data, "message": shown,
             "from": {"id": chat, "is_bot": False, "first_name": "Sam"}}  # fmt: skip
    return {"update_id": update_id, "callback_query": query}


STICKER = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
           "is_animated": False, "is_video": False, "type": "regular"}  # fmt: skip


def run_telegram(engine, fake, updates, plan=None, secret=SECRET):
    """Post ``updates`` one after another (each answered before the next); return the
    webhook's status codes and the stub turn."""
    from channels.telegram import TelegramInput

    async def go():
        made: TelegramInput = telegram_connector(engine, fake)
        turn = StubTurn(plan)
        codes = []
        async with client_for(made, turn) as client:
            for update_json in updates:
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                answer = await client.post(TELEGRAM_PATH, json=update_json, headers=headers)
                codes.append(answer.status_code)
                await settle(made.pipeline)
            await made.sender.bot.request.shutdown()
        return codes, turn

    return asyncio.run(go())


def test_telegram_a_message_sent_while_a_button_is_acknowledged_is_answered_after_it(
    engine, fake_telegram
):
    """Order is kept from the moment each update is stored: a button press whose
    acknowledgement is slow is still answered before the message typed after it."""
    from channels.telegram import TelegramInput

    fake_telegram.slow["answerCallbackQuery"] = 0.5

    async def go():
        made: TelegramInput = telegram_connector(engine, fake_telegram)
        turn = StubTurn()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with client_for(made, turn) as client:
            for update_json in (press(502, "/more_options"), chat_message(502, "thanks")):
                answer = await client.post(TELEGRAM_PATH, json=update_json, headers=headers)
                assert answer.status_code == 200
            await settle(made.pipeline)
            await made.sender.bot.request.shutdown()
        return turn

    turn = asyncio.run(go())
    assert turn.texts == ["/more_options", "thanks"]
    assert [c.text for c in fake_telegram.sent_to(502)] == [
        "You said: /more_options", "You said: thanks",
    ]  # fmt: skip


def test_an_answer_waits_for_arrivals_being_stored_but_not_longer_than_settle_within():
    """A burst is acknowledged first: answers start once nothing is being stored, or
    after ``within`` seconds when arrivals keep coming."""

    async def go():
        storing, events = Storing(), []

        async def answer(within: float) -> None:
            await storing.settled(within)
            events.append(f"answered (storing {storing.count})")

        await storing.settled(5)  # nothing stored: at once
        events.append("at once")
        with storing.one():
            waiting = asyncio.create_task(answer(5))
            await asyncio.sleep(0.05)
            events.append(f"stored? {waiting.done()}")
        await waiting
        with storing.one():
            started = asyncio.get_running_loop().time()
            await answer(0.1)
            events.append(
                f"gave up waiting after {asyncio.get_running_loop().time() - started >= 0.1}"
            )
        return events

    assert asyncio.run(go()) == [
        "at once",
        "stored? False",
        "answered (storing 0)",
        "answered (storing 1)",
        "gave up waiting after True",
    ]


def test_telegram_an_update_is_acknowledged_while_others_are_stored_and_answered_after(
    engine, fake_telegram
):
    """While another arrival is still being stored, a new update gets its 200 at once and
    its turn starts only when the store is done."""
    from channels.telegram import TelegramInput

    async def go():
        made: TelegramInput = telegram_connector(engine, fake_telegram)
        made.pipeline.settle_within = 5.0
        turn = StubTurn()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with client_for(made, turn) as client:
            with STORING.one():  # another family's message, still being stored
                answer = await client.post(
                    TELEGRAM_PATH, json=chat_message(503, "hello"), headers=headers
                )
                await asyncio.sleep(0.2)
                while_storing = (answer.status_code, list(turn.texts), statuses(engine))
            await settle(made.pipeline)
            await made.sender.bot.request.shutdown()
        return while_storing, turn

    while_storing, turn = asyncio.run(go())
    assert while_storing == (200, [], ["received"])
    assert turn.texts == ["hello"]
    assert [c.text for c in fake_telegram.sent_to(503)] == ["You said: hello"]
    assert statuses(engine) == ["replied"]


def test_telegram_a_question_is_answered_and_marked_replied(engine, fake_telegram):
    codes, turn = run_telegram(engine, fake_telegram, [chat_message(501, "hello")])
    assert codes == [200]
    assert [c.text for c in fake_telegram.sent_to(501)] == ["You said: hello"]
    assert statuses(engine) == ["replied"]
    assert turn.seen[0].sender_id == pseudonymise(KEY, "telegram", "501")


def test_telegram_a_wrong_secret_is_refused_and_nothing_is_stored(engine, fake_telegram):
    codes, turn = run_telegram(engine, fake_telegram, [chat_message(502, "hi")], secret="guess")
    assert codes == [403] and turn.seen == [] and inbound_rows(engine) == []


def test_telegram_the_same_update_twice_is_answered_once(engine, fake_telegram):
    update_json = chat_message(503, "hello")
    run_telegram(engine, fake_telegram, [update_json, update_json])
    assert len(fake_telegram.sent_to(503)) == 1 and statuses(engine) == ["replied"]


def test_telegram_stop_start_and_commands(engine, fake_telegram):
    from channels.telegram import STOPPED_TEXT

    updates = [
        chat_message(504, "/stop"),
        chat_message(504, "hello"),
        chat_message(504, "/stop"),
        chat_message(504, CRISIS),
        chat_message(504, "/start"),
        chat_message(504, "/help"),
    ]
    _, turn = run_telegram(engine, fake_telegram, updates)
    sent = [c.text for c in fake_telegram.sent_to(504)]
    assert sent[0] == STOPPED_TEXT and EMERGENCY_LINE in sent[1]
    assert sent[2:] == ["You said: /greet", "You said: /help_menu"]
    assert turn.texts == ["/greet", "/help_menu"]
    assert statuses(engine) == [
        "stopped", "opted_out", "opted_out", "crisis", "replied", "replied",
    ]  # fmt: skip


def test_telegram_stickers_stale_buttons_and_floods(engine, fake_telegram):
    from channels.telegram import FLOOD_TEXT, STALE_BUTTON_TEXT, UNREADABLE_TEXT

    updates = [press(505, "m:9")] + [chat_message(505, sticker=STICKER) for _ in range(21)]
    _, turn = run_telegram(engine, fake_telegram, updates)
    sent = [c.text for c in fake_telegram.sent_to(505)]
    assert sent == [STALE_BUTTON_TEXT] + [UNREADABLE_TEXT] * 19 + [FLOOD_TEXT]
    assert fake_telegram.calls_to("answerCallbackQuery")  # the button's spinner stopped
    assert turn.seen == []
    assert statuses(engine) == ["stale"] + ["unreadable"] * 19 + ["flood", "flood"]


def test_telegram_a_failing_turn_is_apologised_for_and_a_crisis_gets_help(engine, fake_telegram):
    from channels.telegram import SORRY_TEXT

    updates = [chat_message(506, "hello"), chat_message(506, CRISIS)]
    run_telegram(engine, fake_telegram, updates, plan={"hello": "fail", CRISIS: "hang"})
    sent = [c.text for c in fake_telegram.sent_to(506)]
    assert sent[0] == SORRY_TEXT and EMERGENCY_LINE in sent[1]
    assert statuses(engine) == ["apologised", "failed_crisis"]


def test_telegram_an_update_lost_in_a_crash_is_answered_after_restart(engine, fake_telegram):
    from channels.telegram import TelegramInput

    sender = pseudonymise(KEY, "telegram", "507")
    contacts.admit(engine, "telegram", "777", sender, "507", "who helps with transport")
    with session_scope(engine) as session:
        session.execute(update(InboundRow).values(received_at=utcnow() - timedelta(minutes=3)))

    async def go():
        made: TelegramInput = telegram_connector(engine, fake_telegram)
        turn = StubTurn()
        results = [await made.pipeline.recover(made, turn) for _ in range(2)]
        await made.sender.bot.request.shutdown()
        return results

    assert asyncio.run(go()) == [[Status.REPLIED], []]
    assert [c.text for c in fake_telegram.sent_to(507)] == ["You said: who helps with transport"]
    assert statuses(engine) == ["replied"]


def test_telegram_a_slow_crisis_gets_the_emergency_reply_first_and_the_turn_after(
    engine, fake_telegram
):
    from channels.telegram import TelegramInput

    async def go():
        made: TelegramInput = telegram_connector(engine, fake_telegram)
        made.pipeline.crisis_within, made.pipeline.turn_timeout = 0.2, 5.0
        turn = StubTurn(delay=0.6)
        async with client_for(made, turn) as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            await client.post(TELEGRAM_PATH, json=chat_message(508, CRISIS), headers=headers)
            await settle(made.pipeline)
            await made.sender.bot.request.shutdown()

    asyncio.run(go())
    texts = [c.text for c in fake_telegram.sent_to(508)]
    assert len(texts) == 2
    first, second = texts
    assert EMERGENCY_LINE in first and second == f"You said: {CRISIS}"
    assert statuses(engine) == ["replied"]
