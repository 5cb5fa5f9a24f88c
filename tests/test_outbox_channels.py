"""Each outbox sender against a fake of its service on loopback: Telegram (python-telegram-bot),
WhatsApp (twilio, with the 24-hour rule), webhooks; and the contacts the outbox reads."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest
from sqlalchemy import func, select

from bot.contacts import ContactRow, is_opted_out, remember_contact, touch_inbound
from bot.db import session_scope
from bot.notify.outbox import (
    CASE_UPDATE,
    DEAD,
    SUPPRESSED,
    YOU_SAID,
    DeliveryReport,
    dead_letters,
    deliver_due,
    enqueue,
    messages_for,
    utcnow,
)
from bot.notify.senders import WebhookSender
from bot.notify.telegram_bot import TelegramBotSender
from bot.notify.twilio_rest import TwilioWhatsAppSender
from bot.notify.whatsapp import Template, load_templates, one_line
from tests.fakes.loopback import LoopbackServer, read_body, reply_json
from tests.fakes.telegram_api import BLOCKED, TOO_MANY, FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

CHAT_NOT_FOUND = (
    400,
    {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
)
TOKEN = "123:ABC"  # noqa: S105 (the fake's token)


# --- Telegram ------------------------------------------------------------------------------


@pytest.fixture
def fake_telegram():
    with FakeTelegram(TOKEN) as fake:
        yield fake


def telegram(engine, fake: FakeTelegram, chat: int) -> tuple[str, dict[str, TelegramBotSender]]:
    sender = f"telegram-chat{chat}"
    remember_contact(engine, "telegram", sender, str(chat))
    return sender, {"telegram": TelegramBotSender(TOKEN, fake.base_url)}


def test_telegram_sends_text_with_the_rows_buttons_as_an_inline_keyboard(engine, fake_telegram):
    sender, senders = telegram(engine, fake_telegram, 700101)
    buttons = [
        {"title": "Yes, send it", "payload": "/affirm"},
        {"title": "No, don't send", "payload": "/deny"},
    ]
    enqueue(engine, "telegram", sender, "Shall I send it?", buttons=buttons)
    enqueue(engine, "telegram", sender, "Your case TW-7K3QXZ is closed.", kind=CASE_UPDATE)
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(sent=2)
    first, second = fake_telegram.sent_to(700101)
    assert first.text == "Shall I send it?"
    assert first.buttons == [("Yes, send it", "/affirm"), ("No, don't send", "/deny")]
    assert (second.text, second.buttons) == ("Your case TW-7K3QXZ is closed.", [])
    assert [m.provider_id for m in messages_for(engine, sender)] == ["1", "2"]


@pytest.mark.parametrize(
    ("failure", "reason"), [(BLOCKED, "blocked"), (CHAT_NOT_FOUND, "chat not found")]
)
def test_a_blocked_bot_or_a_missing_chat_opts_the_person_out(
    engine, fake_telegram, failure, reason
):
    from bot.contacts import OptOutRow

    sender, senders = telegram(engine, fake_telegram, 700102)
    enqueue(engine, "telegram", sender, "Your case TW-7K3QXZ is closed.", kind=CASE_UPDATE)
    fake_telegram.fail_next(1, failure)
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(suppressed=1)
    assert is_opted_out(engine, sender)
    with session_scope(engine) as session:
        assert session.get(OptOutRow, sender).reason == reason
    (row,) = messages_for(engine, sender)
    assert row.status == SUPPRESSED
    enqueue(engine, "telegram", sender, "later news")
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(suppressed=1)
    assert fake_telegram.sent_to(700102) == []


def test_telegram_flood_control_waits_as_long_as_telegram_asks(engine, fake_telegram):
    sender, senders = telegram(engine, fake_telegram, 700103)
    enqueue(engine, "telegram", sender, "hello")
    fake_telegram.fail_next(1, TOO_MANY)
    now = utcnow()
    assert asyncio.run(deliver_due(engine, senders, now=now)) == DeliveryReport(retrying=1)
    (row,) = messages_for(engine, sender)
    waited = row.next_attempt_at.replace(tzinfo=None) - now.replace(tzinfo=None)
    assert timedelta(seconds=1) <= waited < timedelta(seconds=3)
    assert row.last_error == "Telegram: Flood control exceeded. Retry in 1 seconds"
    later = now + timedelta(seconds=5)
    assert asyncio.run(deliver_due(engine, senders, now=later)) == DeliveryReport(sent=1)


# --- WhatsApp ------------------------------------------------------------------------------

TEMPLATES = {
    CASE_UPDATE: Template(CASE_UPDATE, "HX" + "c" * 32, {"1": "reference", "2": "body"}),
    YOU_SAID: Template(YOU_SAID, "HX" + "d" * 32, {"1": "body"}),
}


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


def whatsapp(engine, fake: FakeTwilio, templates=TEMPLATES):  # type: ignore[no-untyped-def]
    sender = "whatsapp-family"
    remember_contact(engine, "whatsapp", sender, "+447700900311")
    sending = TwilioWhatsAppSender(
        "AC" + "0" * 32, "token", "+447700900000", templates, base_url=fake.base_url
    )
    return sender, {"whatsapp": sending}


def test_whatsapp_inside_the_24_hour_session_sends_free_text(engine, fake_twilio):
    sender, senders = whatsapp(engine, fake_twilio)
    assert touch_inbound(engine, sender, utcnow() - timedelta(hours=2))
    enqueue(engine, "whatsapp", sender, "Your case TW-7K3QXZ is closed.", kind=CASE_UPDATE)
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(sent=1)
    assert fake_twilio.sent == [
        {
            "To": "whatsapp:+447700900311",
            "From": "whatsapp:+447700900000",
            "Body": "Your case TW-7K3QXZ is closed.",
        }
    ]


def test_whatsapp_outside_the_session_uses_the_kinds_approved_template(engine, fake_twilio):
    sender, senders = whatsapp(engine, fake_twilio)
    touch_inbound(engine, sender, utcnow() - timedelta(hours=30))
    text = "Your case TW-7K3QXZ has been picked up by the team.\nWe will ring you."
    enqueue(engine, "whatsapp", sender, text, kind=CASE_UPDATE)
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(sent=1)
    (sent,) = fake_twilio.sent
    assert "Body" not in sent
    assert sent["ContentSid"] == "HX" + "c" * 32
    assert json.loads(sent["ContentVariables"]) == {
        "1": "TW-7K3QXZ",
        "2": "Your case TW-7K3QXZ has been picked up by the team. / We will ring you.",
    }


def test_whatsapp_with_no_template_for_a_late_message_is_dead_and_listed(engine, fake_twilio):
    sender, senders = whatsapp(engine, fake_twilio, templates={})
    enqueue(engine, "whatsapp", sender, "You said: ... We did: ...", kind=YOU_SAID)
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(dead=1)
    (row,) = dead_letters(engine)
    assert row.last_error == (
        "outside WhatsApp's 24-hour window and no approved template for 'you_said' "
        "(data/whatsapp_templates.yml)"
    )
    assert fake_twilio.sent == []


def test_whatsapp_refusing_free_text_late_gets_the_template_at_once(engine, fake_twilio):
    sender, senders = whatsapp(engine, fake_twilio)
    touch_inbound(engine, sender, utcnow() - timedelta(hours=1))  # we think we are in time
    enqueue(engine, "whatsapp", sender, "You said: late taxis.", kind=YOU_SAID)
    fake_twilio.fail_next((400, 63016))
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(sent=1)
    (sent,) = fake_twilio.sent
    assert sent["ContentSid"] == "HX" + "d" * 32
    assert json.loads(sent["ContentVariables"]) == {"1": "You said: late taxis."}


def test_the_shipped_templates_file_is_valid_and_sends_nothing_until_filled_in(tmp_path):
    from bot.config import PROJECT_ROOT
    from bot.notify.whatsapp import TemplateError

    assert load_templates(PROJECT_ROOT / "data" / "whatsapp_templates.yml") == {}
    bad = tmp_path / "t.yml"
    bad.write_text("templates:\n  case_update: {content_sid: XY1, variables: {'1': name}}\n")
    with pytest.raises(TemplateError) as refused:
        load_templates(bad)
    assert str(refused.value) == (
        f"{bad}: case_update: variable 1 is 'name', not one of ('body', 'reference'); "
        "case_update: content_sid 'XY1' does not look like a ContentSid (HX...)"
    )
    assert one_line("a\n\tb    c " + "x" * 2000).startswith("a / b c x")
    assert len(one_line("x" * 2000)) == 1000


# --- webhooks ------------------------------------------------------------------------------


class FakeService(LoopbackServer):
    def __init__(self, statuses: list[int]) -> None:
        super().__init__()
        self.statuses = statuses
        self.received: list[tuple[str | None, dict[str, str]]] = []

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        body = json.loads(read_body(request))
        with self.lock:
            self.received.append((request.headers.get("Idempotency-Key"), body))
            status = self.statuses.pop(0) if self.statuses else 200
        reply_json(request, status, {})


def test_a_webhook_carries_the_same_idempotency_key_when_sent_again(engine):
    with FakeService([503]) as service:
        message_id = enqueue(engine, "webhook", f"{service.origin}/cases", "New case TW-7K3QXZ")
        senders = {"webhook": WebhookSender()}
        now = utcnow()
        assert asyncio.run(deliver_due(engine, senders, now=now)) == DeliveryReport(retrying=1)
        later = now + timedelta(minutes=1)
        assert asyncio.run(deliver_due(engine, senders, now=later)) == DeliveryReport(sent=1)
    key = f"outbox-{message_id}"
    assert service.received == [(key, {"id": key, "text": "New case TW-7K3QXZ"})] * 2


def test_an_unreachable_address_is_dead_at_once(engine):
    enqueue(engine, "sms", "sms-nobody", "hello")  # a pseudonym with no contact row
    from bot.notify.senders import LogSender

    assert asyncio.run(deliver_due(engine, {"sms": LogSender("sms")})) == DeliveryReport(dead=1)
    assert messages_for(engine, "sms-nobody")[0].status == DEAD


# --- contacts ------------------------------------------------------------------------------


def test_the_same_new_sender_stored_by_many_threads_at_once_is_one_row(any_engine):
    engine = any_engine
    threads, senders, errors = 8, 30, []
    start = threading.Barrier(threads)

    def store(n: int) -> None:
        for s in range(senders):  # each new sender arrives on every thread at once
            start.wait()
            try:
                remember_contact(engine, "sms", f"sms-race{s}", f"+4477009000{n:02d}")
            except Exception as error:  # noqa: BLE001 (collected for the assertion)
                errors.append(error)

    workers = [threading.Thread(target=store, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(ContactRow)) == senders
        row = session.get(ContactRow, "sms-race0")
    assert row.address in {f"+4477009000{n:02d}" for n in range(threads)}


def test_touch_inbound_records_the_latest_time_only(engine):
    assert not touch_inbound(engine, "whatsapp-nobody")
    remember_contact(engine, "whatsapp", "whatsapp-a", "+447700900312")
    now = utcnow()
    assert touch_inbound(engine, "whatsapp-a", now)
    assert touch_inbound(engine, "whatsapp-a", now - timedelta(hours=3))  # an older retry
    remember_contact(engine, "whatsapp", "whatsapp-a", "+447700900312")  # kept on refresh
    with session_scope(engine) as session:
        stored = session.get(ContactRow, "whatsapp-a").last_inbound_at
    assert stored.replace(tzinfo=None) == now.replace(tzinfo=None)


def test_a_webhook_to_a_reserved_example_domain_is_logged_not_posted(engine, caplog):
    """The sample routing's hooks (www.example.org) are a stand-in: delivered at once,
    never retried for ever against an address that cannot exist."""
    caplog.set_level("INFO", logger="bot.notify.senders")
    message_id = enqueue(engine, "webhook", "https://www.example.org/hooks/send-team", "TW-1")
    report = asyncio.run(deliver_due(engine, {"webhook": WebhookSender()}))
    assert report == DeliveryReport(sent=1)
    assert (
        messages_for(engine, "https://www.example.org/hooks/send-team")[0].provider_id == "sample"
    )
    assert f"webhook (sample address, not sent): message {message_id}" in caplog.text


@pytest.mark.parametrize(
    ("address", "sample"),
    [
        ("https://www.example.org/hooks/x", True),
        ("https://example.com/x", True),
        ("http://cases.council.test/x", True),
        ("https://example.org.evil.net/x", False),
        ("https://hooks.telford.gov.uk/x", False),
        ("http://127.0.0.1:8080/x", False),
    ],
)
def test_only_reserved_domains_count_as_sample_addresses(address, sample):
    from bot.notify.senders import is_sample_address

    assert is_sample_address(address) is sample
