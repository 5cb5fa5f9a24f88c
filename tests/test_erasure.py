""" "Delete my data" reaches every table the inventory lists: a person's records are made
through the real functions, erased, and then every column of every table is searched for
anything of theirs. Twilio's copies go through Twilio's API (a fake on loopback)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select

from bot.contacts import opt_out, record_inbound, remember_contact, touch_inbound
from bot.db import session_scope
from bot.feedback.store import NewFeedback, record_feedback
from bot.notify.outbox import (
    CASE_UPDATE,
    PENDING,
    SAFEGUARDING,
    SENT,
    SUPPRESSED,
    DeliveryReport,
    OutboxRow,
    deliver_due,
    enqueue,
)
from bot.notify.twilio_rest import TwilioDeleter, TwilioSmsSender
from bot.privacy import TWILIO_DELETE, erase_person, pseudonymise
from bot.routing.cases import CASE_TEXT_ERASED, create_case, get_case, history, staff_update
from bot.routing.rules import Decision, load_routing
from bot.safety_log import flag_conversation
from bot.speech.cache import AudioRow
from tests.databases import current_schema
from tests.fakes.twilio_api import FakeTwilio

KEY = "test-pseudonym-key"
SID, TOKEN = "AC" + "0" * 32, "token"
PHONE, OTHER_PHONE = "+447700900123", "+447700900124"
WORDS = "Jo will ring Mrs Smith at 12 Acacia Road"
RECORDING = "RE" + "a" * 32


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def routing(tmp_path: Path):
    path = tmp_path / "routing.yml"
    path.write_text(
        "fallback_owner: local_offer\ndefault_target_hours: 72\nservices:\n"
        "  travel_assistance: {notify: email, address: travel@example.org, target_hours: 48}\n"
        "rules:\n  - category: transport\n    service: travel_assistance\n    phrases: [taxi]\n"
    )
    return load_routing(path)


def person_on_sms(engine, routing, fake, audio_dir: Path, phone: str, words: str):  # type: ignore[no-untyped-def]
    """Everything a family who texts us can leave behind, made the way the assistant does."""
    sender = pseudonymise(KEY, "sms", phone)
    remember_contact(engine, "sms", sender, phone)
    touch_inbound(engine, sender)
    inbound_sid = "SM" + pseudonymise(KEY, "sid", phone)[4:28].ljust(32, "0")
    record_inbound(engine, "sms", inbound_sid, sender, words)
    enqueue(engine, "sms", sender, f"A reply about {words}")
    asyncio.run(
        deliver_due(
            engine, {"sms": TwilioSmsSender(SID, TOKEN, "+447700900000", base_url=fake.base_url)}
        )
    )
    decision = Decision("travel_assistance", "transport", "normal", "rule")
    case = create_case(engine, routing, decision, words, "sms", sender, True, f"turn-{phone}")
    staff_update(engine, case.reference, "acknowledged", by="Jo", message=f"We will ring. {words}")
    flag = flag_conversation(engine, sender, "sms", ("abuse or violence",))
    enqueue(
        engine, "email", "safeguarding@example.org",
        f"Safety flag {flag}: a sms conversation needs review now.\nConversation id: {sender}",
        dedupe_key=f"safety-flag:{flag}", kind=SAFEGUARDING, person=sender,
    )  # fmt: skip
    record_feedback(
        engine, NewFeedback("sms", sender, f"fb-{phone}", "general", 4, words, (), consent=True)
    )
    audio = audio_dir / f"{case.reference}.mp3"
    audio.write_bytes(b"audio")
    with session_scope(engine) as session:
        session.add(
            AudioRow(
                key=f"{case.reference:0<64}"[:64], engine="gtts", language="en", voice="co.uk",
                text=f"Your case {case.reference} has been picked up by the team.",
                filename=audio.name, content_type="audio/mpeg", size=5,
            )
        )  # fmt: skip
    return sender, case, inbound_sid


def everything(engine) -> list[tuple[str, str, str]]:
    """(table, column, value) for every non-empty value in the database."""
    metadata = MetaData()
    metadata.reflect(engine, schema=current_schema(engine))
    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    if value is not None:
                        found.append((table.name, column, str(value)))
    return found


def traces(engine, *markers: str) -> list[tuple[str, str]]:
    return sorted(
        {(t, c) for t, c, v in everything(engine) if any(m.lower() in v.lower() for m in markers)}
    )


def test_delete_my_data_leaves_nothing_of_the_person_anywhere(
    any_engine, routing, fake_twilio, tmp_path
):
    engine = any_engine
    audio_dir = tmp_path / "audio"
    audio_dir.mkdir()
    sender, case, inbound_sid = person_on_sms(engine, routing, fake_twilio, audio_dir, PHONE, WORDS)
    other, other_case, _ = person_on_sms(
        engine, routing, fake_twilio, audio_dir, OTHER_PHONE, "the bus to Wellington is late"
    )
    for who, words in ((sender, WORDS), (other, "the bus")):
        enqueue(engine, "sms", who, f"A later reply about {words}")  # still pending
    opt_out(engine, "sms", sender, "stop")
    markers = (sender, PHONE, "Acacia", "Mrs Smith")
    assert len(traces(engine, *markers)) >= 10  # it really was everywhere

    told = erase_person(engine, sender, pseudonym_key=KEY, audio_dir=audio_dir)

    assert traces(engine, *markers) == [("opt_outs", "sender")]  # kept to honour STOP
    assert {k: v for k, v in told.items() if v} == {
        "your phone number or chat id": 2,  # the contact and the inbound message
        "messages to you or about you": 5,  # 2 replies, 1 case update, 1 case, 1 safety
        "feedback you asked us to reply to": 1,
        "cases you raised (kept without your identity)": 1,
        "safety reviews (kept without your identity)": 1,
        "audio of replies about your cases": 1,
    }
    # The case stays for statistics, without the family's words or the staff's message.
    kept = get_case(engine, case.reference)
    assert (kept.summary, kept.sender, kept.status, kept.service_key) == (
        CASE_TEXT_ERASED, "erased", "acknowledged", "travel_assistance",
    )  # fmt: skip
    assert [(e.status, e.note, e.by) for e in history(engine, case.reference)] == [
        ("new", None, "family"), ("acknowledged", None, "Jo"),
    ]  # fmt: skip
    with session_scope(engine) as session:
        outbox = list(
            session.scalars(
                select(OutboxRow)
                .where(OutboxRow.channel != TWILIO_DELETE, OutboxRow.person == "erased")
                .order_by(OutboxRow.id)
            )
        )
    replies = [(r.status, r.last_error, r.body) for r in outbox if r.kind == "message"]
    assert replies == [
        (SENT, None, "(erased at the person's request)"),
        (SUPPRESSED, "erased on request", "(erased at the person's request)"),  # not sent now
    ]
    (service,) = (r for r in outbox if r.kind == "service")
    assert service.status == PENDING  # still goes: the service learns there was a case
    assert service.body == (
        f"Case {case.reference}: the family asked us to delete their details, so the text "
        "of this case was removed. The case itself is kept."
    )
    (safety,) = (r for r in outbox if r.kind == SAFEGUARDING)
    assert safety.status == PENDING and safety.body.endswith("Conversation id: erased")
    assert not (audio_dir / f"{case.reference}.mp3").exists()
    assert (audio_dir / f"{other_case.reference}.mp3").exists()
    # The other family's records are untouched.
    assert len(traces(engine, other, OTHER_PHONE, "Wellington")) >= 10

    # Twilio's copies of the texts go through Twilio's API, retried like any message.
    with session_scope(engine) as session:
        queued = session.scalars(
            select(OutboxRow.recipient).where(OutboxRow.channel == TWILIO_DELETE)
        ).all()
    # what they sent us, our first reply and the case update (both sent by the second
    # family's delivery round)
    assert sorted(queued) == sorted([inbound_sid, f"SM{1:032d}", f"SM{2:032d}"])
    fake_twilio.fail_next(503)
    deleter = {TWILIO_DELETE: TwilioDeleter(SID, TOKEN, base_url=fake_twilio.base_url)}
    assert asyncio.run(deliver_due(engine, deleter)) == DeliveryReport(sent=2, retrying=1)
    from datetime import timedelta

    from bot.db import utcnow

    later = utcnow() + timedelta(minutes=1)
    assert asyncio.run(deliver_due(engine, deleter, now=later)) == DeliveryReport(sent=1)
    assert sorted(fake_twilio.deleted) == sorted(queued)
    assert ("DELETE", f"/2010-04-01/Accounts/{SID}/Messages/{inbound_sid}.json") in (
        fake_twilio.requests
    )


def test_after_erasure_the_sqlite_file_holds_none_of_the_persons_words_or_number(
    engine, routing, fake_twilio, tmp_path
):
    """Not only no row: no bytes either. Deleted rows would otherwise stay readable in the
    file's free pages (and the write-ahead log) until reused."""
    audio_dir = tmp_path / "audio"
    audio_dir.mkdir()
    sender, _, _ = person_on_sms(engine, routing, fake_twilio, audio_dir, PHONE, WORDS)
    files = [Path(str(engine.url.database)), Path(f"{engine.url.database}-wal")]

    def on_disk(marker: str) -> bool:
        return any(marker.encode() in f.read_bytes() for f in files if f.exists())

    from bot.db import checkpoint

    checkpoint(engine)
    assert on_disk("Acacia Road") and on_disk(PHONE)  # it really was in the file

    erase_person(engine, sender, pseudonym_key=KEY, audio_dir=audio_dir)

    assert not on_disk("Acacia Road") and not on_disk(PHONE) and not on_disk("Mrs Smith")
    with engine.connect() as connection:  # set by us, whatever SQLite's build defaults to
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_erasing_a_call_reaches_its_recording_and_the_number_it_asked_us_to_text(
    engine, fake_twilio
):
    phone = "+447700900456"
    caller = pseudonymise(KEY, "voice", phone)
    texted = pseudonymise(KEY, "sms", phone)
    remember_contact(engine, "sms", texted, phone)  # key 5: "text me this"
    enqueue(engine, "sms", texted, "SEND Travel Assistance: 01632 960123", dedupe_key="voice:CA1:x")
    remember_contact(engine, "voice", caller, phone)  # key 1: "call me back"
    url = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}"
    record_feedback(
        engine,
        NewFeedback("voice", caller, RECORDING, "", None, f"(voice recording) {url}", (), True),
    )

    erase_person(engine, caller, pseudonym_key=KEY, audio_dir=None)

    assert traces(engine, caller, texted, phone, url) == []
    deleter = {TWILIO_DELETE: TwilioDeleter(SID, TOKEN, base_url=fake_twilio.base_url)}
    assert asyncio.run(deliver_due(engine, deleter)) == DeliveryReport(sent=1)
    assert fake_twilio.deleted == [RECORDING]
    assert ("DELETE", f"/2010-04-01/Accounts/{SID}/Recordings/{RECORDING}.json") in (
        fake_twilio.requests
    )


def test_a_recording_already_gone_at_twilio_counts_as_deleted(engine, fake_twilio):
    from bot.privacy import queue_twilio_deletions

    with session_scope(engine) as session:
        assert queue_twilio_deletions(session, [RECORDING, RECORDING, "not-a-sid"]) == 1
    fake_twilio.fail_next(404)
    deleter = {TWILIO_DELETE: TwilioDeleter(SID, TOKEN, base_url=fake_twilio.base_url)}
    assert asyncio.run(deliver_due(engine, deleter)) == DeliveryReport(sent=1)
    with session_scope(engine) as session:
        row = session.scalars(select(OutboxRow)).one()
    assert (row.status, row.provider_id) == (SENT, "already-gone")


def test_erasure_in_the_action_tells_the_person_what_went(engine):
    # the action's words come from the inventory's "told" names
    remember_contact(engine, "sms", "sms-aaa", PHONE)
    enqueue(engine, "sms", "sms-aaa", "hello", kind=CASE_UPDATE)
    told = erase_person(engine, "sms-aaa", pseudonym_key=KEY, audio_dir=None)
    assert [k for k, v in told.items() if v] == [
        "your phone number or chat id", "messages to you or about you",
    ]  # fmt: skip
