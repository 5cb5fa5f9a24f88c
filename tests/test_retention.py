"""The retention job removes only what is past its age, in both stores, by the inventory's
rules: old personal records made through the real functions go, recent ones stay."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert, select, update

from bot.config import PROJECT_ROOT
from bot.contacts import ContactRow, InboundRow, record_inbound, remember_contact
from bot.db import make_engine, session_scope
from bot.feedback.store import FeedbackRow, NewFeedback, record_feedback
from bot.notify.outbox import SENT, OutboxRow, enqueue
from bot.privacy import TWILIO_DELETE
from bot.retention import run_retention
from bot.routing.cases import CASE_TEXT_EXPIRED, CaseRow, create_case, get_case, staff_update
from bot.routing.rules import Decision, load_routing
from bot.safety_log import SafetyFlagRow, flag_conversation
from bot.speech.cache import AudioRow
from bot.speech.prerender import fixed_pieces

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=200)
RECORDING = "RE" + "b" * 32


def _tracker(tmp_path):
    tracker = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    events = Table(
        "events", MetaData(),
        Column("id", Integer, primary_key=True), Column("sender_id", String),
        Column("timestamp", Float),
    )  # fmt: skip
    events.create(tracker)
    with tracker.begin() as connection:
        for sender, age_days in (("old", 200), ("old", 181), ("new", 10), ("new", 0)):
            stamp = (NOW - timedelta(days=age_days)).timestamp()
            connection.execute(insert(events).values(sender_id=sender, timestamp=stamp))
    return tracker, events


def _age(engine, model, column, where, when=OLD) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        session.execute(update(model).where(where).values({column: when}))


def _routing(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "routing.yml"
    path.write_text(
        "fallback_owner: local_offer\ndefault_target_hours: 72\nservices:\n"
        "  travel_assistance: {notify: email, address: travel@example.org, target_hours: 48}\n"
        "rules:\n  - category: transport\n    service: travel_assistance\n    phrases: [taxi]\n"
    )
    return load_routing(path)


def test_retention_removes_only_what_is_too_old(engine, tmp_path):
    tracker, events = _tracker(tmp_path)
    routing = _routing(tmp_path)
    decision = Decision("travel_assistance", "transport", "normal", "rule")
    phones = {"sms-old": "+447700900401", "sms-new": "+447700900402", "sms-open": "+447700900403"}
    for who, phone in phones.items():
        remember_contact(engine, "sms", who, phone)
        record_inbound(engine, "sms", f"SM{who[-3:]:0>32}", who, f"message from {who}")
        enqueue(engine, "sms", who, f"reply to {who}")
        record_feedback(engine, NewFeedback("sms", who, "t", "general", 3, "ok", (), consent=True))
        flag_conversation(engine, who, "sms", ("abuse or violence",))
    url = f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{RECORDING}"
    record_feedback(
        engine,
        NewFeedback("voice", "voice-x", "r", "", None, f"(voice recording) {url}", (), False),
    )
    closed = create_case(engine, routing, decision, "old words", "sms", "sms-old", True, "1", OLD)
    staff_update(engine, closed.reference, "closed", by="Jo", message="We fixed the taxi.")
    still_open = create_case(
        engine, routing, decision, "open words", "sms", "sms-open", True, "2", OLD
    )
    with session_scope(engine) as session:  # everything was delivered long ago
        for row in session.scalars(select(OutboxRow)):
            row.status = SENT
            row.provider_id = f"SM{row.id:032d}" if row.channel == "sms" else "<id@example.org>"
    for who in ("sms-old", "sms-open"):
        _age(engine, ContactRow, "last_seen_at", ContactRow.sender == who)
        _age(engine, InboundRow, "received_at", InboundRow.sender == who)
        _age(engine, OutboxRow, "created_at", OutboxRow.recipient == who)
        _age(engine, FeedbackRow, "created_at", FeedbackRow.conversation_id == who)
        _age(engine, SafetyFlagRow, "created_at", SafetyFlagRow.conversation_id == who)
    _age(engine, FeedbackRow, "created_at", FeedbackRow.channel == "voice")
    _age(engine, OutboxRow, "created_at", OutboxRow.kind == "service")

    report = run_retention(engine, tracker, days=180, now=NOW)

    assert report == {
        "events": 2,
        "contacts": 1,  # sms-old; sms-open has an open case and is kept
        "inbound_messages": 2,
        "outbox": 5,  # two old replies, two old service emails, and the old case update
        "feedback": 3,  # two unlinked, one recording deleted
        "cases": 1,  # the closed one
        "safety_flags": 2,
        "speech_audio": 0,  # not asked for (no audio folder)
        "call_backs": 0,
        "staff_audit": 0,  # its own, longer period
    }
    with tracker.connect() as connection:
        assert [r.sender_id for r in connection.execute(select(events))] == ["new", "new"]
    with session_scope(engine) as session:
        assert sorted(session.scalars(select(ContactRow.sender))) == ["sms-new", "sms-open"]
        assert list(session.scalars(select(InboundRow.sender))) == ["sms-new"]
        assert sorted(str(r.conversation_id) for r in session.scalars(select(FeedbackRow))) == [
            "None", "None", "None", "sms-new",
        ]  # fmt: skip
        texts = sorted(str(r.text) for r in session.scalars(select(FeedbackRow)))
        assert "(voice recording, deleted)" in texts and url not in " ".join(texts)
        flags = sorted(str(r.conversation_id) for r in session.scalars(select(SafetyFlagRow)))
        assert flags == ["erased", "erased", "sms-new"]
        deletions = sorted(
            session.scalars(select(OutboxRow.recipient).where(OutboxRow.channel == TWILIO_DELETE))
        )
        left = [(r.recipient, r.kind) for r in session.scalars(
            select(OutboxRow).where(OutboxRow.channel != TWILIO_DELETE).order_by(OutboxRow.id)
        )]  # fmt: skip
    assert left == [("sms-new", "message")]
    assert RECORDING in deletions and "SM" + "old".rjust(32, "0") in deletions
    assert len(deletions) == 1 + 2 + 3  # the recording, 2 texts received, 3 texts sent
    kept = get_case(engine, closed.reference)
    assert (kept.summary, kept.sender, kept.status) == (CASE_TEXT_EXPIRED, "erased", "closed")
    assert get_case(engine, still_open.reference).summary == "open words"
    with session_scope(engine) as session:
        assert session.scalars(select(CaseRow.id)).all() == [1, 2]


def test_old_reply_audio_goes_and_the_audio_of_fixed_texts_stays(loaded_engine, tmp_path):
    tracker, _ = _tracker(tmp_path)
    domain = PROJECT_ROOT / "domain.yml"
    fixed = fixed_pieces(loaded_engine, domain)[0]
    audio_dir = tmp_path / "audio"
    audio_dir.mkdir()
    made = {
        "old-reply": ("Your case TW-7K3QXZ is with the SEND Team.", 200),
        "old-fixed": (fixed, 200),
        "new-reply": ("Your case TW-9P2MRT is with the SEND Team.", 1),
    }
    with session_scope(loaded_engine) as session:
        for name, (text, age_days) in made.items():
            (audio_dir / f"{name}.mp3").write_bytes(b"audio")
            session.add(
                AudioRow(
                    key=name, engine="gtts", language="en", voice="co.uk", text=text,
                    filename=f"{name}.mp3", content_type="audio/mpeg", size=5,
                    created_at=NOW - timedelta(days=age_days),
                )
            )  # fmt: skip

    report = run_retention(loaded_engine, tracker, days=180, now=NOW, audio=(audio_dir, domain))

    assert report["speech_audio"] == 1
    assert sorted(p.name for p in audio_dir.iterdir()) == ["new-reply.mp3", "old-fixed.mp3"]
    with session_scope(loaded_engine) as session:
        assert sorted(session.scalars(select(AudioRow.key))) == ["new-reply", "old-fixed"]


def _audit_at(engine, *ages_in_days: int) -> None:  # type: ignore[no-untyped-def]
    from bot.staff.audit import AuditRow

    with session_scope(engine) as session:
        for age in ages_in_days:
            session.add(
                AuditRow(
                    at=NOW - timedelta(days=age), actor="jo@example.org", action="login",
                    target=f"{age} days old", detail="",
                )
            )  # fmt: skip


def _audit_left(engine) -> list[str]:  # type: ignore[no-untyped-def]
    from bot.staff.audit import AuditRow

    with session_scope(engine) as session:
        return list(session.scalars(select(AuditRow.target).order_by(AuditRow.id)))


def test_the_staff_audit_log_is_kept_two_years_then_deleted(any_engine, tmp_path):
    """Longer than families' data (RETENTION_DAYS), on SQLite and on PostgreSQL."""
    tracker, _ = _tracker(tmp_path)
    _audit_at(any_engine, 1, 200, 729, 731, 1000)

    report = run_retention(any_engine, tracker, days=180, now=NOW)

    assert report["staff_audit"] == 2
    assert _audit_left(any_engine) == ["1 days old", "200 days old", "729 days old"]
    report = run_retention(any_engine, tracker, days=180, now=NOW, audit_days=100)
    assert report["staff_audit"] == 2
    assert _audit_left(any_engine) == ["1 days old"]


def test_the_retention_command_reads_audit_retention_days(tmp_path, monkeypatch, capsys):
    from bot.cli import main
    from bot.db import upgrade

    database = tmp_path / "app.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    _tracker(tmp_path)
    now = datetime.now(timezone.utc)
    from bot.staff.audit import AuditRow

    with session_scope(engine) as session:
        for age in (10, 40):
            session.add(AuditRow(at=now - timedelta(days=age), actor="jo@example.org",
                                 action="login", target=f"{age}", detail=""))  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("AUDIO_DIR", str(tmp_path / "audio"))
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "30")
    assert main(["privacy", "retention"]) == 0
    out = capsys.readouterr().out
    assert "The staff audit log: removed entries older than 30 days.\n" in out
    assert "  staff_audit: 1\n" in out
    with session_scope(engine) as session:
        assert list(session.scalars(select(AuditRow.target))) == ["10"]
