"""Record conversations flagged by the crisis detector, for staff to review."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Column, DateTime, Integer, String, select
from sqlalchemy.engine import Engine

from bot.db import Base, session_scope


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
