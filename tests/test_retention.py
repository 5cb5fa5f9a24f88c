"""The retention job removes only what is past its age, in both stores."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, insert, select

from bot.config import PROJECT_ROOT
from bot.db import make_engine, session_scope
from bot.feedback.store import FeedbackRow, NewFeedback, record_feedback
from bot.retention import run_retention
from bot.safety_log import SafetyFlagRow, flag_conversation
from bot.speech.cache import AudioRow
from bot.speech.prerender import fixed_pieces

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


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


def test_retention_removes_only_what_is_too_old(engine, tmp_path):
    tracker, events = _tracker(tmp_path)
    for conversation, turn in (("sms-old", "1"), ("sms-new", "2")):
        record_feedback(
            engine,
            NewFeedback("sms", conversation, turn, "general", 3, "ok", (), consent=True),
        )
    flag_conversation(engine, "sms-old", "sms", ("abuse or violence",))
    with session_scope(engine) as session:
        for row in session.scalars(select(FeedbackRow)):
            if row.conversation_id == "sms-old":
                row.created_at = NOW - timedelta(days=200)
        session.scalars(select(SafetyFlagRow)).one().created_at = NOW - timedelta(days=200)

    report = run_retention(engine, tracker, days=180, now=NOW)

    assert report == {
        "conversation events deleted": 2,
        "feedback made anonymous": 1,
        "safety flags unlinked": 1,
    }
    with tracker.connect() as connection:
        assert [r.sender_id for r in connection.execute(select(events))] == ["new", "new"]
    with session_scope(engine) as session:
        ids = sorted((r.conversation_id or "") for r in session.scalars(select(FeedbackRow)))
        assert ids == ["", "sms-new"]
        assert session.scalars(select(SafetyFlagRow)).one().conversation_id == "erased"


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

    assert report["audio files deleted"] == 1
    assert sorted(p.name for p in audio_dir.iterdir()) == ["new-reply.mp3", "old-fixed.mp3"]
    with session_scope(loaded_engine) as session:
        assert sorted(session.scalars(select(AudioRow.key))) == ["new-reply", "old-fixed"]
