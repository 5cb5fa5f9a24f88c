"""Kill things on purpose: the action server, the Rasa server, the outbox worker and the
SMTP server each fail mid-run, and no family is left in silence, nothing is lost and
nothing is sent twice.

One assistant (real Rasa and action servers, the outbox worker, the trained model) with
SMS and Telegram against the fake Twilio and Telegram APIs; the SMTP server is down until
the last test brings a local one (aiosmtpd) up on its port. The tests run in file order
and each starts again what it killed. Replies are counted where a family would see them:
in the TwiML answer, at the fake Twilio API (sent by the outbox worker) or at the fake
Telegram API.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from bot.safety import EMERGENCY_LINE
from channels.sms import SORRY_TEXT
from scripts import servers
from scripts.sms_try import signed_post, sms_texts
from tests.conftest import free_port
from tests.fakes.env import fakes_env
from tests.fakes.smtp import Inbox
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.safety_e2e_helpers import KEY, PUBLIC_URL, TG_SECRET, TG_TOKEN, TOKEN, sender

pytestmark = pytest.mark.e2e

FINAL = {"replied", "queued", "apologised", "failed_crisis"}
RECOVER_AFTER = 60  # longer than a turn with its retries (20 s) and a turn's time-out (30 s)


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port()  # nothing listens here until the SMTP test starts a server


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(TG_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, twilio, telegram, smtp_port) -> Iterator[servers.Assistant]:
    env = fakes_env(
        twilio, telegram, auth_token=TOKEN, pseudonym_key=KEY, telegram_secret=TG_SECRET,
        SMS_REPLY_WITHIN="3",  # as `make run`: slower replies go by the outbox
        SAFEGUARDING_CONTACT="safeguarding@example.org",
        SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), OUTBOX_POLL_SECONDS="0.5",
        INBOUND_RECOVER_AFTER=str(RECOVER_AFTER), INBOUND_RECOVER_EVERY="2",
        SPEECH_ENGINES="none",
    )  # fmt: skip
    with servers.running(
        rasa_port=free_port(),
        actions_port=free_port(),
        workdir=tmp_path_factory.mktemp("resilience"),
        env=env,
        quiet=True,
    ) as running:
        yield running


def query(assistant: servers.Assistant, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(assistant.workdir / "app.db", timeout=10) as db:
        return db.execute(sql, args).fetchall()


def wait_for(check: Callable[[], Any], seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return result


def text_in(assistant: servers.Assistant, body: str, phone: str) -> tuple[str, list[str]]:
    """Text ``body`` from ``phone`` (a signed Twilio webhook); its MessageSid and the texts
    of the TwiML answer."""
    sid = "SM" + uuid.uuid4().hex
    params = {
        "MessageSid": sid, "AccountSid": "AC" + "1" * 32, "From": phone,
        "To": "+447700900000", "Body": body, "NumMedia": "0",
    }  # fmt: skip
    status, twiml = signed_post(assistant.base_url, PUBLIC_URL, TOKEN, params)
    assert status == 200, twiml
    return sid, sms_texts(twiml)


def status_of(assistant: servers.Assistant, sid: str) -> str | None:
    found = query(assistant, "select status from inbound_messages where external_id = ?", sid)
    return found[0][0] if found else None


def settled(assistant: servers.Assistant, sid: str) -> bool:
    """The message has its final status and nothing for it waits in the outbox."""
    waiting = query(
        assistant,
        "select count(*) from outbox where dedupe_key like ? and status != 'sent'",
        f"%:{sid}",
    )[0][0]
    return status_of(assistant, sid) in FINAL and not waiting


def sent_to(twilio: FakeTwilio, phone: str) -> list[str]:
    return [m["Body"] for m in list(twilio.sent) if m["To"] == phone]


def answer(
    assistant: servers.Assistant, twilio: FakeTwilio, body: str, phone: str, seconds: float = 60
) -> tuple[str, list[str]]:
    """Text ``body`` and wait until it is answered for good: its MessageSid and every SMS the
    family got for it (in the TwiML answer, then from the outbox)."""
    before = len(sent_to(twilio, phone))
    sid, inline = text_in(assistant, body, phone)
    assert wait_for(lambda: settled(assistant, sid), seconds), status_of(assistant, sid)
    return sid, inline + sent_to(twilio, phone)[before:]


def is_real_answer(text: str) -> bool:
    return text.startswith(("This service can help:", "These can help:"))


def test_with_the_action_server_killed_a_crisis_gets_the_emergency_reply_and_a_question_an_apology(
    assistant, twilio
):
    assistant.kill("actions")
    crisis_phone, question_phone = "+447700901001", "+447700901002"
    results: dict[str, tuple[str, list[str]]] = {}

    def text(phone: str, body: str) -> None:
        results[phone] = answer(assistant, twilio, body, phone)

    threads = [
        threading.Thread(target=text, args=(crisis_phone, "I want to kill myself")),
        threading.Thread(target=text, args=(question_phone, "who helps with school transport")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)

    crisis_sid, crisis_replies = results[crisis_phone]
    (emergency,) = crisis_replies  # the emergency reply once, and no apology after it
    assert emergency.splitlines()[1] == EMERGENCY_LINE
    assert "Samaritans" in emergency and "116 123" in emergency
    assert status_of(assistant, crisis_sid) == "failed_crisis"
    flags = query(
        assistant,
        "select category from safety_flags where channel = 'sms' and conversation_id = ?",
        sender("sms", crisis_phone),
    )
    assert flags == [("suicidal",)]

    question_sid, question_replies = results[question_phone]
    assert question_replies == [SORRY_TEXT]
    assert status_of(assistant, question_sid) == "apologised"

    assistant.restart("actions")
    sid, replies = answer(assistant, twilio, "who helps with school transport", question_phone)
    assert len(replies) == 1 and replies[0].startswith("This service can help:\n1. SEND Travel")
    assert status_of(assistant, sid) in ("replied", "queued")


def telegram_update(assistant: servers.Assistant, chat: int, text: str) -> str:
    """Post a Telegram update (acknowledged at once); its update id."""
    update_id = int(time.time() * 1000) % 1_000_000_000
    body = {
        "update_id": update_id,
        "message": {
            "message_id": 1, "date": int(time.time()), "text": text,
            "chat": {"id": chat, "type": "private", "first_name": "Sam"},
            "from": {"id": chat, "is_bot": False, "first_name": "Sam"},
        },
    }  # fmt: skip
    answer = httpx.post(
        f"{assistant.base_url}/webhooks/telegram/webhook", json=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}, timeout=10,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return str(update_id)


def test_a_message_stored_when_the_rasa_server_dies_is_answered_once_after_a_restart(
    assistant, twilio, telegram
):
    phone, chat = "+447700901003", 6201003
    actions = assistant.process("actions")
    actions.send_signal(signal.SIGSTOP)  # the turns hang at the action server ...
    try:
        update = telegram_update(assistant, chat, "who helps with school transport")
        sid, inline = text_in(assistant, "who helps with school transport", phone)
        assert inline == []  # not ready in 3 s: the answer would follow by the outbox
        assert status_of(assistant, sid) == "received"
        assert status_of(assistant, update) == "received"  # acknowledged, not answered
        assistant.kill("rasa")  # ... and the Rasa server dies mid-turn
    finally:
        actions.send_signal(signal.SIGCONT)
    stored_at = time.monotonic()
    assistant.restart("rasa")
    assert sent_to(twilio, phone) == [] and telegram.sent_to(chat) == []
    # The restarted server's sweep takes them up once they are RECOVER_AFTER seconds old.
    assert wait_for(lambda: settled(assistant, sid), RECOVER_AFTER + 60)
    assert wait_for(lambda: status_of(assistant, update) == "replied", 30)
    assert time.monotonic() - stored_at >= RECOVER_AFTER - 5
    time.sleep(5)  # more sweeps: they are not taken up again
    (reply,) = sent_to(twilio, phone)
    assert reply.startswith("This service can help:\n1. SEND Travel")
    attempts = "select status, attempts from inbound_messages where external_id = ?"
    assert query(assistant, attempts, sid) == [("queued", 1)]
    assert query(assistant, attempts, update) == [("replied", 1)]
    texts = [call.text for call in telegram.sent_to(chat)]
    assert texts and is_real_answer(texts[0])
    assert len(set(texts)) == len(texts)  # each of the turn's messages once


def test_replies_waiting_while_the_outbox_worker_is_dead_are_each_sent_once(assistant, twilio):
    phones = ["+447700901011", "+447700901012", "+447700901013"]
    assistant.kill("outbox")
    actions = assistant.process("actions")
    actions.send_signal(signal.SIGSTOP)  # slow turns: their replies go to the outbox
    sids: list[str] = []
    try:
        threads = [
            threading.Thread(
                target=lambda p=p: sids.append(text_in(assistant, "how do i get an ehcp", p)[0])
            )
            for p in phones
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        actions.send_signal(signal.SIGCONT)
    assert len(sids) == 3
    assert wait_for(lambda: all(status_of(assistant, s) == "queued" for s in sids), 60)
    waiting = query(
        assistant,
        "select status from outbox where dedupe_key in (?, ?, ?)",
        *[f"sms-reply:{s}" for s in sids],
    )
    assert waiting == [("pending",)] * 3
    time.sleep(1)
    assert [sent_to(twilio, p) for p in phones] == [[], [], []]

    assistant.restart("outbox")
    assert wait_for(lambda: all(settled(assistant, s) for s in sids), 30)
    time.sleep(3)  # several more rounds of the worker
    replies = [sent_to(twilio, p) for p in phones]
    assert [len(r) for r in replies] == [1, 1, 1]
    first = replies[0][0]
    assert is_real_answer(first)  # the turn's own answer, not an apology
    assert [r[0] for r in replies] == [first] * 3


def test_a_case_email_waits_while_the_smtp_server_is_down_then_goes_once(
    assistant, twilio, smtp_port
):
    phone = "+447700901021"
    _, (confirm,) = answer(
        assistant, twilio, "the school taxi didnt turn up again this morning", phone
    )
    assert confirm.startswith("I can send this to SEND Travel Assistance.")
    _, (sent,) = answer(assistant, twilio, "yes", phone)
    reference = sent.split("reference is ")[1].split(".")[0]

    def email() -> tuple[Any, ...] | None:
        found = query(
            assistant,
            "select status, attempts, last_error from outbox "
            "where kind = 'service' and case_reference = ?",
            reference,
        )
        return found[0] if found else None

    # The first attempt is over when its failure is recorded (while it is under way the
    # row is "sending", its attempt already counted).
    assert wait_for(lambda: (row := email()) is not None and row[2] is not None, 30)
    status, attempts, error = email()  # type: ignore[misc]
    assert (status, attempts) == ("pending", 1) and "Connection refused" in error
    case = "select status from cases where reference = ?"
    assert query(assistant, case, reference) == [("new",)]  # not "sent": it has not gone

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:  # the next attempt comes after the first back-off (30 s)
        assert wait_for(lambda: email()[0] == "sent", 60)  # type: ignore[index]
        time.sleep(3)  # more rounds of the worker: not sent again
    finally:
        controller.stop()
    mine = [to for to, body in inbox.messages if reference in body]
    assert mine == ["travel-assistance@example.org"]
    assert query(assistant, case, reference) == [("sent",)]
