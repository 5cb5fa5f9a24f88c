"""Record conversations flagged by the crisis detector, for staff to review."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, DateTime, Integer, String, Text, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import Base, session_scope

if TYPE_CHECKING:
    from bot.privacy import ErasureTarget, RetentionRun

ERASED = "erased"


class SafetyFlagRow(Base):
    """A conversation that needs a safeguarding review. Holds no message text."""

    __tablename__ = "safety_flags"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    reasons = Column(JSON, nullable=False)
    category = Column(String(48))  # the safeguarding category whose help was given first
    created_at = Column(DateTime(timezone=True), nullable=False)
    reviewed_at = Column(DateTime(timezone=True))
    reviewed_by = Column(String(200))
    review_note = Column(Text)


def flag_conversation(
    engine: Engine,
    conversation_id: str,
    channel: str,
    reasons: tuple[str, ...],
    category: str | None = None,
) -> int:
    """Store a flag for staff review and return its id."""
    with session_scope(engine) as session:
        row = SafetyFlagRow(
            conversation_id=conversation_id,
            channel=channel,
            reasons=list(reasons),
            category=category,
            created_at=datetime.now(timezone.utc),
        )
        session.add(row)
        session.flush()
        return int(row.id)


def open_flags(engine: Engine) -> list[SafetyFlagRow]:
    """Flags not yet reviewed, oldest first."""
    with session_scope(engine) as session:
        query = select(SafetyFlagRow).where(SafetyFlagRow.reviewed_at.is_(None))
        return list(session.scalars(query.order_by(SafetyFlagRow.id)))


def erase_flags(session: Session, target: ErasureTarget) -> int:
    """Keep the person's flags for safeguarding statistics, without their conversation id."""
    result = session.execute(
        update(SafetyFlagRow)
        .where(SafetyFlagRow.conversation_id.in_(target.ids))
        .values(conversation_id=ERASED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def expire_flags(session: Session, run: RetentionRun) -> int:
    """Past the cutoff, a flag loses its conversation id."""
    result = session.execute(
        update(SafetyFlagRow)
        .where(SafetyFlagRow.created_at < run.cutoff, SafetyFlagRow.conversation_id != ERASED)
        .values(conversation_id=ERASED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def get_flag(engine: Engine, flag_id: int) -> SafetyFlagRow | None:
    with session_scope(engine) as session:
        return session.get(SafetyFlagRow, flag_id)


def all_flags(engine: Engine, reviewed: bool) -> list[SafetyFlagRow]:
    """Open flags oldest first, or reviewed ones newest first."""
    with session_scope(engine) as session:
        if reviewed:
            query = select(SafetyFlagRow).where(SafetyFlagRow.reviewed_at.is_not(None))
            return list(session.scalars(query.order_by(SafetyFlagRow.reviewed_at.desc())))
        query = select(SafetyFlagRow).where(SafetyFlagRow.reviewed_at.is_(None))
        return list(session.scalars(query.order_by(SafetyFlagRow.id)))


def review_flag(engine: Engine, flag_id: int, by: str, note: str) -> bool:
    """Mark a flag reviewed by ``by`` with a note; False if there is no such flag."""
    with session_scope(engine) as session:
        row = session.get(SafetyFlagRow, flag_id)
        if row is None:
            return False
        row.reviewed_at = datetime.now(timezone.utc)
        row.reviewed_by = by
        row.review_note = note
        return True
