"""The outbox with the real twilio client against a fake Twilio API on loopback."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.contacts import opt_out, remember_contact
from bot.notify.outbox import (
    DEAD,
    MAX_ATTEMPTS,
    PENDING,
    SENT,
    SUPPRESSED,
    DeliveryReport,
    deliver_due,
    enqueue,
    messages_for,
    record_delivery_status,
    utcnow,
)
from bot.notify.senders import TwilioSmsSender
from tests.fakes.twilio_api import FakeTwilio

SENDER = "sms-abc123"
PHONE = "+447700900123"


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


def _sender(fake: FakeTwilio) -> TwilioSmsSender:
    return TwilioSmsSender("AC" + "0" * 32, "token", "+447700900000", base_url=fake.base_url)


def test_a_500_is_retried_after_back_off_and_sent_exactly_once(engine, fake_twilio):
    remember_contact(engine, "sms", SENDER, PHONE)
    enqueue(engine, "sms", SENDER, "Your case TW-7K3Q is in progress.", dedupe_key="k1")
    enqueue(engine, "sms", SENDER, "Your case TW-7K3Q is in progress.", dedupe_key="k1")
    fake_twilio.fail_next(500)
    senders = {"sms": _sender(fake_twilio)}
    now = utcnow()

    first = asyncio.run(deliver_due(engine, senders, now=now))
    assert first == DeliveryReport(retrying=1)
    (row,) = messages_for(engine, SENDER)
    assert (row.status, row.attempts, row.last_error) == (
        PENDING, 1, "Twilio 500: Unable to create record: Internal Server Error",
    )  # fmt: skip
    assert asyncio.run(deliver_due(engine, senders, now=now)) == DeliveryReport()  # not due yet

    later = now + timedelta(seconds=31)
    assert asyncio.run(deliver_due(engine, senders, now=later)) == DeliveryReport(sent=1)
    assert fake_twilio.sent == [
        {"To": PHONE, "From": "+447700900000", "Body": "Your case TW-7K3Q is in progress."}
    ]
    (row,) = messages_for(engine, SENDER)
    assert (row.status, row.attempts, row.provider_id) == (SENT, 2, f"SM{1:032d}")
    assert record_delivery_status(engine, row.provider_id, "delivered")
    assert messages_for(engine, SENDER)[0].delivery_status == "delivered"


def test_gives_up_after_max_attempts(engine, fake_twilio):
    remember_contact(engine, "sms", SENDER, PHONE)
    enqueue(engine, "sms", SENDER, "hello")
    fake_twilio.fail_next(*([503] * MAX_ATTEMPTS))
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        asyncio.run(deliver_due(engine, {"sms": _sender(fake_twilio)}, now=moment))
        moment += timedelta(hours=2)
    (row,) = messages_for(engine, SENDER)
    assert (row.status, row.attempts) == (DEAD, MAX_ATTEMPTS)
    assert fake_twilio.sent == []


def test_opted_out_recipients_are_never_messaged(engine, fake_twilio):
    remember_contact(engine, "sms", SENDER, PHONE)
    opt_out(engine, "sms", SENDER, "stop")
    enqueue(engine, "sms", SENDER, "hello")
    report = asyncio.run(deliver_due(engine, {"sms": _sender(fake_twilio)}))
    assert report == DeliveryReport(suppressed=1)
    assert messages_for(engine, SENDER)[0].status == SUPPRESSED
    assert fake_twilio.sent == []


def test_a_restart_between_queueing_and_sending_loses_nothing(tmp_path, fake_twilio):
    from bot.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'app.db'}"
    first = make_engine(url)
    upgrade(first)
    remember_contact(first, "sms", SENDER, PHONE)
    enqueue(first, "sms", SENDER, "queued before the restart")
    first.dispose()  # the process stops here

    second = make_engine(url)
    report = asyncio.run(deliver_due(second, {"sms": _sender(fake_twilio)}))
    assert report == DeliveryReport(sent=1)
    assert [m["Body"] for m in fake_twilio.sent] == ["queued before the restart"]
