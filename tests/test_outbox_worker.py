"""The outbox worker under failure: racing workers, a worker killed mid-send, SMTP down
past the retry budget, dead letters and alerts. Real twilio client and smtplib against
fakes on loopback (the fake Twilio API, aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from bot.config import PROJECT_ROOT
from bot.contacts import is_opted_out, remember_contact
from bot.db import make_engine, upgrade
from bot.notify.outbox import (
    ALERT,
    DEAD,
    LEASE,
    MAX_ATTEMPTS,
    PENDING,
    SAFEGUARDING,
    SENDING,
    SENT,
    SERVICE,
    SUPPRESSED,
    DeliveryReport,
    OutboxRow,
    dead_letters,
    deliver_due,
    enqueue,
    get_message,
    messages_for,
    raise_alerts,
    retry,
    utcnow,
)
from bot.notify.senders import SmtpSender
from bot.notify.twilio_rest import TwilioSmsSender
from tests.conftest import free_port
from tests.fakes.smtp import Inbox
from tests.fakes.twilio_api import FakeTwilio

SID, TOKEN, FROM = "AC" + "0" * 32, "token", "+447700900000"


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


def sms_sender(fake: FakeTwilio) -> TwilioSmsSender:
    return TwilioSmsSender(SID, TOKEN, FROM, base_url=fake.base_url)


def family(engine, n: int) -> str:
    sender = f"sms-family{n:02d}"
    remember_contact(engine, "sms", sender, f"+4477009002{n:02d}")
    return sender


def rows(engine) -> list[OutboxRow]:
    from sqlalchemy import select

    from bot.db import session_scope

    with session_scope(engine) as session:
        return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))


# --- two workers at once --------------------------------------------------------------


def test_two_workers_racing_with_a_slow_twilio_send_every_message_once(any_engine, fake_twilio):
    engine = any_engine
    for n in range(12):
        enqueue(engine, "sms", family(engine, n), f"message {n}")
    fake_twilio.delay = 0.2  # each send takes 0.2 s: a round of 12 takes 2.4 s
    lease = timedelta(seconds=1.5)  # shorter than a whole round, longer than one send
    reports: list[DeliveryReport] = []
    start = threading.Barrier(2)

    def worker() -> None:
        sender = sms_sender(fake_twilio)
        start.wait()
        for _ in range(30):
            reports.append(asyncio.run(deliver_due(engine, {"sms": sender}, lease=lease)))
            if all(r.status == SENT for r in rows(engine)):
                return

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(m["Body"] for m in fake_twilio.sent) == sorted(f"message {n}" for n in range(12))
    assert sum(r.sent for r in reports) == 12
    assert sum(r.lost + r.retrying + r.dead for r in reports) == 0
    assert {r.status for r in rows(engine)} == {SENT}
    assert len({r.provider_id for r in rows(engine)}) == 12


def test_a_claim_that_runs_out_mid_send_is_not_recorded_and_twilio_is_asked_first(
    engine, fake_twilio
):
    sender = family(engine, 1)
    enqueue(engine, "sms", sender, "Your case TW-7K3QXZ is in progress.")
    fake_twilio.delay = 2.0  # Twilio makes the message at once but answers 2 s later
    first: list[DeliveryReport] = []
    slow = threading.Thread(
        target=lambda: first.append(
            asyncio.run(
                deliver_due(engine, {"sms": sms_sender(fake_twilio)}, lease=timedelta(seconds=0.5))
            )
        )
    )
    slow.start()
    deadline = time.monotonic() + 10
    while not fake_twilio.sent and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.7)  # the first worker's lease has run out; it is still waiting on Twilio

    second = asyncio.run(deliver_due(engine, {"sms": sms_sender(fake_twilio)}))
    slow.join(10)

    assert second == DeliveryReport(sent=1)  # found at Twilio, not sent again
    assert first == [DeliveryReport(lost=1)]  # its late answer was not recorded
    assert len(fake_twilio.sent) == 1
    assert [m[0] for m in fake_twilio.requests].count("GET") == 1  # the second looked first
    (row,) = rows(engine)
    assert (row.status, row.provider_id, row.attempts) == (SENT, f"SM{1:032d}", 2)


# --- a worker process killed and stopped ------------------------------------------------


def worker_env(tmp_path, fake: FakeTwilio, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE_URL": fake.base_url,
        "OUTBOX_POLL_SECONDS": "0.2",
        "SMTP_HOST": "",
        "TELEGRAM_BOT_TOKEN": "",
        "PSEUDONYM_KEY": "test-pseudonym-key",  # real credentials never run with a public key
        **extra,
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "outbox", "run"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_for(check, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def test_a_worker_killed_mid_send_frees_the_message_when_its_lease_ends(tmp_path, fake_twilio):
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    upgrade(engine)
    sender = family(engine, 2)
    enqueue(engine, "sms", sender, "Your case TW-7K3QXZ has been picked up by the team.")
    fake_twilio.hang_next(60)  # Twilio makes the message, then the worker dies waiting
    worker = start_worker(worker_env(tmp_path, fake_twilio))
    try:
        assert wait_for(lambda: fake_twilio.sent)
        worker.kill()
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    (row,) = rows(engine)
    assert row.status == SENDING
    senders = {"sms": sms_sender(fake_twilio)}
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport()  # its lease holds

    later = utcnow() + LEASE + timedelta(seconds=1)
    assert asyncio.run(deliver_due(engine, senders, now=later)) == DeliveryReport(sent=1)
    assert len(fake_twilio.sent) == 1  # Twilio's list showed it had gone: not sent again
    (row,) = rows(engine)
    assert (row.status, row.provider_id, row.attempts) == (SENT, f"SM{1:032d}", 2)


def test_the_worker_process_delivers_and_stops_cleanly_on_sigint(tmp_path, fake_twilio):
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    upgrade(engine)
    worker = start_worker(worker_env(tmp_path, fake_twilio))
    try:
        enqueue(engine, "sms", family(engine, 3), "queued while the worker runs")
        assert wait_for(lambda: fake_twilio.sent)
        assert wait_for(lambda: rows(engine)[0].status == SENT, 10)
        worker.send_signal(signal.SIGINT)
        assert worker.wait(15) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    output = worker.stdout.read().decode() if worker.stdout else ""
    assert "outbox worker: stopped" in output
    assert "+447700900203" not in output  # no phone numbers in the log
    assert [m["Body"] for m in fake_twilio.sent] == ["queued while the worker runs"]


# --- SMTP down for longer than the retry budget -------------------------------------------


def _round(engine, senders, moment) -> DeliveryReport:
    report = asyncio.run(deliver_due(engine, senders, now=moment))
    raise_alerts(engine, "ops@example.org", now=moment)
    return report


def test_smtp_down_past_the_retry_budget_loses_nothing_alerts_once_and_sends_once(
    any_engine, tmp_path
):
    from bot.routing.cases import get_case

    engine = any_engine
    case = _service_case(engine, tmp_path)
    enqueue(
        engine, "email", "safeguarding@example.org", "Safety flag 1: review now.",
        kind=SAFEGUARDING, person="sms-family",
    )  # fmt: skip
    enqueue(engine, "email", "someone@example.org", "An ordinary email.")
    port = free_port()
    senders = {"email": SmtpSender("127.0.0.1", port, "assistant@example.org", "SEND")}
    moment = utcnow()
    rounds = 2 * MAX_ATTEMPTS + 2  # over 4 hours with nothing listening
    for _ in range(rounds):
        _round(engine, senders, moment)
        moment += timedelta(minutes=20)

    by_kind = {str(r.kind): r for r in rows(engine)}
    assert set(by_kind) == {SERVICE, SAFEGUARDING, "message", ALERT}
    assert (by_kind[SERVICE].status, by_kind[SERVICE].attempts) == (PENDING, rounds)
    assert by_kind[SAFEGUARDING].status == PENDING  # still trying, every 10 minutes at most
    assert (by_kind["message"].status, by_kind["message"].attempts) == (DEAD, MAX_ATTEMPTS)
    assert get_case(engine, case.reference).status == "new"  # not "sent": it has not gone
    listed = [int(r.id) for r in dead_letters(engine)]
    assert listed == [int(r.id) for r in rows(engine)]  # all four, the failing alert too
    alert = by_kind[ALERT]
    assert (alert.status, alert.attempts) == (PENDING, rounds - MAX_ATTEMPTS)
    assert alert.alerted_at is not None  # logged, but no alert about the alert
    assert alert.recipient == "ops@example.org"
    assert alert.body.splitlines()[1:4] == [
        f"#{by_kind[SERVICE].id} service by email for case {case.reference}: still trying "
        f"after {MAX_ATTEMPTS} attempt(s); last error: email not sent: "
        f"[Errno 111] Connection refused",
        f"#{by_kind[SAFEGUARDING].id} safeguarding by email: still trying after "
        f"{MAX_ATTEMPTS} attempt(s); last error: email not sent: [Errno 111] Connection refused",
        f"#{by_kind['message'].id} message by email: dead after {MAX_ATTEMPTS} attempt(s); "
        "last error: email not sent: [Errno 111] Connection refused",
    ]
    assert "example.org" not in alert.body.replace("ops@example.org", "")

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for _ in range(3):
            _round(engine, senders, moment)
            moment += timedelta(minutes=20)
        assert retry(engine, int(by_kind["message"].id))
        _round(engine, senders, moment + timedelta(minutes=1))
        _round(engine, senders, moment + timedelta(minutes=2))
    finally:
        controller.stop()

    recipients = sorted(to for to, _ in inbox.messages)
    assert recipients == [
        "ops@example.org", "safeguarding@example.org", "someone@example.org",
        "travel@example.org",
    ]  # each exactly once  # fmt: skip
    assert {r.status for r in rows(engine)} == {SENT}
    assert len([r for r in rows(engine) if r.kind == ALERT]) == 1  # no alert about the alert
    assert get_case(engine, case.reference).status == "sent"
    assert dead_letters(engine) == []


def _service_case(engine, folder):  # type: ignore[no-untyped-def]
    from bot.routing.cases import create_case
    from bot.routing.rules import Decision, load_routing

    path = folder / "routing.yml"
    routing_file = (
        "fallback_owner: local_offer\ndefault_target_hours: 72\nservices:\n"
        "  travel_assistance: {notify: email, address: travel@example.org, target_hours: 48}\n"
        "rules:\n  - category: transport\n    service: travel_assistance\n    phrases: [taxi]\n"
    )
    path.write_text(routing_file)
    routing = load_routing(path)
    decision = Decision("travel_assistance", "transport", "normal", "rule")
    return create_case(
        engine, routing, decision, "the taxi is late", "sms", "sms-family", True, "1"
    )


def test_an_smtp_message_id_of_any_length_is_stored_and_sent_once(any_engine):
    engine = any_engine
    enqueue(engine, "email", "travel@example.org", "New case TW-7K3QXZ", kind=SERVICE)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    senders = {"email": SmtpSender("127.0.0.1", port, "assistant@send.example.org", "SEND")}
    try:
        now = utcnow()
        assert asyncio.run(deliver_due(engine, senders, now=now)) == DeliveryReport(sent=1)
        later = now + LEASE + timedelta(minutes=10)
        assert asyncio.run(deliver_due(engine, senders, now=later)) == DeliveryReport()
    finally:
        controller.stop()
    (row,) = rows(engine)
    assert row.status == SENT and len(row.provider_id) > 64
    assert row.provider_id.startswith(f"<outbox-{row.id}.") and row.provider_id.endswith(
        "@send.example.org>"
    )
    assert len(inbox.messages) == 1
    received = email.message_from_string(inbox.messages[0][1])
    assert received["Message-ID"].strip() == row.provider_id


# --- dead letters, re-sending, opt-outs from the carrier ----------------------------------


def test_a_refused_number_is_dead_listed_alerted_and_can_be_sent_again(engine, fake_twilio):
    sender = family(engine, 4)
    message_id = enqueue(engine, "sms", sender, "hello")
    fake_twilio.fail_next((400, 21211))
    senders = {"sms": sms_sender(fake_twilio)}
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(dead=1)
    (row,) = dead_letters(engine)
    assert row.last_error == (
        f"Twilio 400 (21211): Unable to create record: The 'To' number is not a valid phone "
        f"number. (sms message {message_id})"
    )
    report = raise_alerts(engine, "ops@example.org")
    assert report.alerted == [message_id] and report.queued_id is not None
    assert raise_alerts(engine, "ops@example.org").alerted == []  # told once

    assert retry(engine, message_id)
    assert not retry(engine, message_id)  # pending again, not dead
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(sent=1)
    assert not retry(engine, message_id)  # sent: nothing to re-send
    assert not retry(engine, 9999)
    assert [m["Body"] for m in fake_twilio.sent] == ["hello"]
    assert get_message(engine, message_id).attempts == 1


def test_twilio_21610_opts_the_person_out(engine, fake_twilio):
    sender = family(engine, 5)
    enqueue(engine, "sms", sender, "Your case TW-7K3QXZ is closed.")
    enqueue(engine, "sms", sender, "a second message")
    fake_twilio.fail_next((400, 21610))
    senders = {"sms": sms_sender(fake_twilio)}
    assert asyncio.run(deliver_due(engine, senders)) == DeliveryReport(suppressed=2)
    assert is_opted_out(engine, sender)
    first, second = messages_for(engine, sender)
    assert (first.status, first.last_error) == (
        SUPPRESSED, "Twilio 400 (21610): Unable to create record: Attempt to send to "
        "unsubscribed recipient",
    )  # fmt: skip
    assert (second.status, second.last_error) == (SUPPRESSED, "recipient opted out")
    assert fake_twilio.sent == []
    assert dead_letters(engine) == []  # a family's choice, not a fault


def test_a_service_duty_number_that_opted_out_is_listed_for_staff(engine, fake_twilio):
    enqueue(engine, "sms", "+447700900999", "New case TW-7K3QXZ", kind=SERVICE)
    fake_twilio.fail_next((400, 21610))
    asyncio.run(deliver_due(engine, {"sms": sms_sender(fake_twilio)}))
    (row,) = dead_letters(engine)
    assert row.status == SUPPRESSED and row.kind == SERVICE
    assert raise_alerts(engine, "").alerted == [row.id]  # no contact: logged only
    assert [r.kind for r in rows(engine)] == [SERVICE]


def test_a_sender_that_crashes_leaves_the_message_pending(engine):
    class Broken:
        async def send(self, address: str, body: str) -> str:
            raise ValueError("a bug")

    enqueue(engine, "log", "somewhere", "hello")
    assert asyncio.run(deliver_due(engine, {"log": Broken()})) == DeliveryReport(retrying=1)
    (row,) = rows(engine)
    assert (row.status, row.last_error) == (PENDING, "unexpected error: ValueError('a bug')")


@pytest.mark.parametrize("kind", [SERVICE, SAFEGUARDING])
def test_essential_messages_never_die_of_a_temporary_failure(engine, fake_twilio, kind):
    enqueue(engine, "sms", "+447700900998", "New case", kind=kind)
    fake_twilio.fail_next(*([503] * 20))
    moment = utcnow()
    for _ in range(20):
        asyncio.run(deliver_due(engine, {"sms": sms_sender(fake_twilio)}, now=moment))
        moment += timedelta(minutes=11)
    (row,) = rows(engine)
    assert (row.status, row.attempts) == (PENDING, 20)
    assert row.next_attempt_at.replace(tzinfo=None) <= (moment + timedelta(minutes=10)).replace(
        tzinfo=None
    )
    assert asyncio.run(
        deliver_due(engine, {"sms": sms_sender(fake_twilio)}, now=moment)
    ) == DeliveryReport(sent=1)


def test_the_worker_process_marks_a_case_sent_once_its_email_is_delivered(tmp_path, fake_twilio):
    """The hook that marks a case "sent" lives with the cases; the worker process, which
    imports no case code of its own, must still run it."""
    from bot.routing.cases import get_case

    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    upgrade(engine)
    case = _service_case(engine, tmp_path)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    worker = start_worker(
        worker_env(tmp_path, fake_twilio, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
    )
    try:
        assert wait_for(lambda: rows(engine)[0].status == SENT)
        worker.send_signal(signal.SIGINT)
        worker.wait(15)
    finally:
        if worker.poll() is None:
            worker.kill()
        controller.stop()
    assert [to for to, _ in inbox.messages] == ["travel@example.org"]
    assert get_case(engine, case.reference).status == "sent"


def test_a_database_down_for_many_rounds_logs_one_traceback_then_delivers_once(
    engine, monkeypatch, caplog
):
    """The worker keeps trying while the SQLite file is broken for real, without a
    traceback every few seconds; once it is mended the waiting email goes, once."""
    import dataclasses
    import logging

    from bot.config import load_settings
    from bot.notify import worker
    from tests.test_database_down import Database

    enqueue(engine, "email", "safeguarding@example.org", "Safety flag 1: review now.",
            kind=SAFEGUARDING, person="sms-family")  # fmt: skip
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    senders = {"email": SmtpSender("127.0.0.1", port, "assistant@example.org", "SEND")}
    settings = dataclasses.replace(load_settings(), outbox_poll_seconds=0.01)
    monkeypatch.setattr(worker, "ERROR_PAUSE", 0.01)
    database = Database(engine)
    database.down()

    async def go() -> None:
        stop = asyncio.Event()
        running = asyncio.ensure_future(worker.run(engine, settings, senders, stop))
        while not any("round failed" in m for m in caplog.messages):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # many more failing rounds
        database.up()
        while not inbox.messages:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # more rounds: nothing is sent twice
        stop.set()
        await running

    try:
        with caplog.at_level(logging.INFO, logger="bot.notify.worker"):
            asyncio.run(go())
    finally:
        controller.stop()
    worker_lines = [r for r in caplog.records if r.name == "bot.notify.worker"]
    failed = [r for r in worker_lines if "round failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is not None
    assert not [r for r in worker_lines if r.exc_info is not None and r not in failed]
    (recovered,) = (r.getMessage() for r in worker_lines if "delivering again" in r.getMessage())
    assert int(recovered.split("after ")[1].split()[0]) >= 5
    assert [to for to, _ in inbox.messages] == ["safeguarding@example.org"]
    assert [r.status for r in rows(engine)] == [SENT]
