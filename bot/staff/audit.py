"""The audit log: every staff action, who did it and when. Admins read it in the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Integer, String, Text, select
from sqlalchemy.engine import Engine

from bot.db import Base, session_scope, utcnow


class AuditRow(Base):
    __tablename__ = "staff_audit"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)
    actor = Column(String(200), nullable=False)
    action = Column(String(64), nullable=False)
    target = Column(String(200), nullable=False, default="")
    detail = Column(Text)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


def record(engine: Engine, actor: str, action: str, target: str = "", detail: str = "") -> None:
    """Write one line of the audit log (never message text or phone numbers)."""
    with session_scope(engine) as session:
        session.add(
            AuditRow(at=utcnow(), actor=actor, action=action, target=target, detail=detail[:1000])
        )


def recent(engine: Engine, limit: int = 200, actor: str | None = None) -> list[AuditEntry]:
    """The newest entries first."""
    with session_scope(engine) as session:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if actor:
            query = query.where(AuditRow.actor == actor)
        return [
            AuditEntry(
                at=row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc),
                actor=str(row.actor),
                action=str(row.action),
                target=str(row.target or ""),
                detail=str(row.detail or ""),
            )
            for row in session.scalars(query)
        ]
