"""The retention job: remove conversations and personal data older than the set age.

Run daily from a scheduler: ``python -m bot privacy retention``. Conversations live in
Rasa's tracker store (an ``events`` table with a Unix ``timestamp``); personal records
live in the application database. Audio made for one conversation's replies ("read it to
me") goes too; the audio of fixed texts, the same for everyone, is kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import MetaData, Table, delete, inspect, update
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.feedback.store import FeedbackRow
from bot.privacy import ERASED
from bot.safety_log import SafetyFlagRow
from bot.speech.cache import remove_old_audio
from bot.speech.prerender import fixed_pieces


def remove_old_conversations(tracker_engine: Engine, cutoff: datetime) -> int:
    """Delete tracker events older than ``cutoff``; return how many were removed."""
    if not inspect(tracker_engine).has_table("events"):
        return 0
    events = Table("events", MetaData(), autoload_with=tracker_engine)
    with tracker_engine.begin() as connection:
        result = connection.execute(delete(events).where(events.c.timestamp < cutoff.timestamp()))
    return int(result.rowcount or 0)


def remove_old_personal_data(engine: Engine, cutoff: datetime) -> dict[str, int]:
    """Strip identities from records older than ``cutoff``; return counts by kind."""
    with session_scope(engine) as session:
        feedback = session.execute(
            update(FeedbackRow)
            .where(FeedbackRow.created_at < cutoff, FeedbackRow.conversation_id.is_not(None))
            .values(sender=None, conversation_id=None)
        )
        flags = session.execute(
            update(SafetyFlagRow)
            .where(SafetyFlagRow.created_at < cutoff, SafetyFlagRow.conversation_id != ERASED)
            .values(conversation_id=ERASED)
        )
    return {
        "feedback made anonymous": int(feedback.rowcount or 0),
        "safety flags unlinked": int(flags.rowcount or 0),
    }


def run_retention(
    engine: Engine,
    tracker_engine: Engine,
    days: int,
    now: datetime | None = None,
    audio: tuple[Path, Path] | None = None,
) -> dict[str, int]:
    """Apply the retention period to both stores and report what was removed. With
    ``audio`` (the audio folder and the domain file), old reply audio is removed too."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=days)
    report = {"conversation events deleted": remove_old_conversations(tracker_engine, cutoff)}
    report.update(remove_old_personal_data(engine, cutoff))
    if audio is not None:
        audio_dir, domain_path = audio
        keep = set(fixed_pieces(engine, domain_path))
        report["audio files deleted"] = remove_old_audio(engine, audio_dir, cutoff, keep)
    return report
