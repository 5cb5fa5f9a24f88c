"""The SMS channel end to end: the real Rasa server and model, signed requests made with
the real twilio library, TwiML parsed with ElementTree, and a fake Twilio REST API."""

from __future__ import annotations

import sqlite3
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from bot.sms import is_gsm7, segments
from scripts import servers
from scripts.sms_try import signed_post, sms_texts
from tests.conftest import free_port
from tests.fakes.env import fakes_env
from tests.fakes.smtp import Inbox
from tests.fakes.twilio_api import FakeTwilio

pytestmark = pytest.mark.e2e

TOKEN = "test-auth-token"
PUBLIC_URL = "https://send-assistant.example.org"


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def _env(fake: FakeTwilio, **extra: str) -> dict[str, str]:
    # The TwiML path is under test here, not the clock: a loaded machine must not push
    # replies onto the outbox path (tested on its own with SMS_REPLY_WITHIN=0).
    return fakes_env(fake, auth_token=TOKEN, pseudonym_key="test-pseudonym-key", **extra)


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    mailbox, port = Inbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, fake_twilio, inbox) -> Iterator[servers.Assistant]:
    with servers.running(
        rasa_port=free_port(),
        actions_port=free_port(),
        workdir=tmp_path_factory.mktemp("sms"),
        env=_env(fake_twilio, SMTP_HOST="127.0.0.1", SMTP_PORT=str(inbox[1])),
        quiet=True,
    ) as running:
        yield running


def text_in(assistant, body, phone="+447700900111", sid=None, token=TOKEN):
    params = {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "1" * 32,
        "From": phone,
        "To": "+447700900000",
        "Body": body,
    }
    return signed_post(assistant.base_url, PUBLIC_URL, token, params)


def reply_of(assistant, body, **kwargs) -> list[str]:
    status, twiml = text_in(assistant, body, **kwargs)
    assert status == 200, twiml
    return sms_texts(twiml)


def _count(assistant, query, *args):
    with sqlite3.connect(assistant.workdir / "app.db") as db:
        return db.execute(query, args).fetchone()[0]


def test_a_signed_question_gets_a_plain_sms_reply(assistant):
    (text,) = reply_of(assistant, "he needs a wet room, we have the OT report but nothing happened")
    assert text.startswith("These can help:\n1. Housing Adaptations")
    assert "Reply 1 More options, 2 Talk to someone, 3 Give feedback." in text
    assert "Sample data" in text
    assert is_gsm7(text)
    assert segments(text) <= 4


def test_forged_unsigned_and_tampered_requests_get_403_and_store_nothing(assistant):
    before = _count(assistant, "select count(*) from inbound_messages")
    assert text_in(assistant, "hello", token="wrong-token")[0] == 403
    params = {"MessageSid": "SMforged", "From": "+447700900222", "Body": "hi"}
    unsigned = urllib.request.Request(
        f"{assistant.base_url}/webhooks/sms/webhook",
        data=urllib.parse.urlencode(params).encode(),
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=10)
    assert refused.value.code == 403
    # A real signature replayed with a different body no longer matches.
    from twilio.request_validator import RequestValidator

    good = {**params, "Body": "original"}
    signature = RequestValidator(TOKEN).compute_signature(
        f"{PUBLIC_URL}/webhooks/sms/webhook", good
    )
    tampered = urllib.request.Request(
        f"{assistant.base_url}/webhooks/sms/webhook",
        data=urllib.parse.urlencode({**good, "Body": "changed"}).encode(),
        headers={"X-Twilio-Signature": signature},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered, timeout=10)
    assert refused.value.code == 403
    assert _count(assistant, "select count(*) from inbound_messages") == before


def test_a_repeated_message_sid_is_answered_once(assistant):
    sid = "SM" + uuid.uuid4().hex
    answers = [reply_of(assistant, "who helps with school transport", sid=sid) for _ in range(3)]
    assert len(answers[0]) == 1 and answers[1:] == [[], []]
    assert (
        _count(assistant, "select count(*) from inbound_messages where external_id = ?", sid) == 1
    )


def test_stop_silences_until_start(assistant):
    phone = "+447700900333"
    assert reply_of(assistant, "STOP", phone=phone) == []
    assert reply_of(assistant, "who helps with school transport", phone=phone) == []
    (resumed,) = reply_of(assistant, "START", phone=phone)
    assert resumed.startswith("Welcome back.")
    assert len(reply_of(assistant, "who helps with school transport", phone=phone)) == 1


def test_help_and_a_numbered_choice(assistant):
    phone = "+447700900444"
    (help_text,) = reply_of(assistant, "HELP", phone=phone)
    assert "Text STOP to stop messages." in help_text
    reply_of(assistant, "who can help with respite", phone=phone)
    (talk,) = reply_of(assistant, "2", phone=phone)
    assert talk.startswith("You can talk to a person.")


def test_a_crisis_text_gets_emergency_numbers_first(assistant):
    (text,) = reply_of(assistant, "my dad hits me and im scared to go home", phone="+447700900555")
    assert text.splitlines()[1] == "If someone is in danger right now, call 999."


def test_phone_numbers_are_stored_only_in_contacts(assistant):
    phone = "+447700900666"
    reply_of(assistant, "who helps with dyslexia", phone=phone)
    with sqlite3.connect(assistant.workdir / "app.db") as db:
        assert db.execute("select count(*) from contacts where address = ?", (phone,)).fetchone()
        assert not db.execute(
            "select count(*) from inbound_messages where sender like ?", (f"%{phone}%",)
        ).fetchone()[0]
    with sqlite3.connect(assistant.workdir / "tracker.db") as db:
        senders = [r[0] for r in db.execute("select distinct sender_id from events")]
    assert phone not in senders and all(s.startswith(("sms-", "rest")) or s for s in senders)


def test_a_flood_gets_one_polite_reply(assistant):
    phone = "+447700900777"
    answers = [reply_of(assistant, f"hello {n}", phone=phone) for n in range(22)]
    assert all(len(a) == 1 for a in answers[:20])
    assert answers[20] == [
        "You have sent a lot of messages. Please wait a minute, then text again."
    ]
    assert answers[21] == []


def test_a_slow_turn_replies_through_the_outbox(tmp_path, fake_twilio):
    with servers.running(
        rasa_port=free_port(),
        actions_port=free_port(),
        workdir=tmp_path,
        env=_env(fake_twilio, SMS_REPLY_WITHIN="0"),
        quiet=True,
    ) as slow:
        before = len(fake_twilio.sent)
        assert reply_of(slow, "who helps with school transport", phone="+447700900888") == []
        deadline = time.monotonic() + 20
        while len(fake_twilio.sent) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        sent = fake_twilio.sent[before:]
    assert [m["To"] for m in sent] == ["+447700900888"]
    assert sent[0]["Body"].startswith("This service can help:\n1. SEND Travel Assistance:")
    assert sent[0]["StatusCallback"] == f"{PUBLIC_URL}/webhooks/sms/status"


def _wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


def test_feedback_by_text_is_stored_once_even_when_delivered_again(assistant):
    phone = "+447700900321"
    before = _count(assistant, "select count(*) from feedback")
    for answer in ("I want to give feedback", "general", "5", "the chat was quick"):
        reply_of(assistant, answer, phone=phone)
    sid = "SM" + uuid.uuid4().hex
    (thanks,) = reply_of(assistant, "no thanks", phone=phone, sid=sid)
    assert (
        thanks == "Thank you. Your feedback helps services get better. Your feedback is anonymous."
    )
    assert reply_of(assistant, "no thanks", phone=phone, sid=sid) == []  # Twilio retried
    assert _count(assistant, "select count(*) from feedback") == before + 1
    assert _count(assistant, "select count(*) from feedback where sender is null") >= 1


def test_a_case_by_text_emails_the_service_and_staff_updates_reach_the_family(
    assistant, inbox, fake_twilio
):
    import os
    import subprocess
    import sys

    mailbox, _ = inbox
    phone = "+447700900654"
    (confirm,) = reply_of(
        assistant, "the school taxi didnt turn up again this morning", phone=phone
    )
    assert confirm.startswith("I can send this to SEND Travel Assistance.")
    (sent,) = reply_of(assistant, "yes", phone=phone)
    reference = sent.split("reference is ")[1].split(".")[0]
    assert _wait_for(lambda: any(reference in body for _, body in mailbox.messages))
    to, body = next((t, b) for t, b in mailbox.messages if reference in b)
    assert to.endswith("@example.org") and "the school taxi didnt turn up" in body
    assert phone not in body

    before = len(fake_twilio.sent)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{assistant.workdir / 'app.db'}"}
    subprocess.run(
        [sys.executable, "-m", "bot", "cases", "ack", reference, "--message", "We will ring you."],
        cwd=servers.ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    assert _wait_for(lambda: len(fake_twilio.sent) > before)
    update = fake_twilio.sent[before]
    assert update["To"] == phone
    assert (
        update["Body"]
        == f"Your case {reference} has been picked up by the team.\nWe will ring you."
    )
    (status,) = reply_of(assistant, f"whats happening with {reference}", phone=phone)
    assert status == f"Your case {reference} has been picked up by the team."
