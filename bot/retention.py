"""The retention job: remove conversations and personal data older than the set age.

Run daily from a scheduler: ``python -m bot privacy retention``. What happens to each
table is the ``expire`` rule in :mod:`bot.inventory`. Conversations live in Rasa's
tracker store (an ``events`` table with a Unix ``timestamp``); the rest lives in the
application database. Audio made for replies goes too (with ``audio``); the audio of
fixed texts, the same for everyone, is kept. The staff console's audit log is kept for its
own, longer period (``AUDIT_RETENTION_DAYS``, two years unless set), then deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import MetaData, Table, delete, inspect
from sqlalchemy.engine import Engine

from bot.db import checkpoint, session_scope
from bot.privacy import RetentionRun
from bot.staff.audit import AUDIT_RETENTION_DAYS


def remove_old_conversations(tracker_engine: Engine, cutoff: datetime) -> int:
    """Delete tracker events older than ``cutoff``; return how many were removed."""
    if not inspect(tracker_engine).has_table("events"):
        return 0
    events = Table("events", MetaData(), autoload_with=tracker_engine)
    with tracker_engine.begin() as connection:
        result = connection.execute(delete(events).where(events.c.timestamp < cutoff.timestamp()))
    return int(result.rowcount or 0)


def remove_old_personal_data(engine: Engine, run: RetentionRun) -> dict[str, int]:
    """Apply every table's retention rule from the inventory; return counts by table."""
    from bot.inventory import INVENTORY

    report: dict[str, int] = {}
    with session_scope(engine) as session:
        for table in INVENTORY:
            if table.expire is not None:
                report[table.name] = table.expire(session, run)
    checkpoint(engine)  # SQLite: not left in the write-ahead log either
    for path in run.files:
        path.unlink(missing_ok=True)
    return report


def run_retention(
    engine: Engine,
    tracker_engine: Engine,
    days: int,
    now: datetime | None = None,
    audio: tuple[Path, Path] | None = None,
    audit_days: int = AUDIT_RETENTION_DAYS,
) -> dict[str, int]:
    """Apply the retention period to both stores and report what was changed, by table.
    With ``audio`` (the audio folder and the domain file), old reply audio is removed too.
    The staff audit log has its own period, ``audit_days``."""
    moment = now or datetime.now(timezone.utc)
    cutoff = moment - timedelta(days=days)
    audit_cutoff = moment - timedelta(days=audit_days)
    run = RetentionRun(cutoff, audit_cutoff=audit_cutoff)
    if audio is not None:
        from bot.speech.prerender import fixed_pieces

        audio_dir, domain_path = audio
        run = RetentionRun(
            cutoff,
            audio_dir,
            frozenset(fixed_pieces(engine, domain_path)),
            audit_cutoff=audit_cutoff,
        )
    report = {"events": remove_old_conversations(tracker_engine, cutoff)}
    report.update(remove_old_personal_data(engine, run))
    return report
