"""The audit log: every staff action, who did it and when. Admins read it in the console.

It is kept for ``AUDIT_RETENTION_DAYS`` (two years unless set), longer than families'
data, so a council can answer "who looked at this, who changed that" for a complaint or an
investigation; then the retention job deletes it (:func:`expire_audit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sqlalchemy import Column, DateTime, Integer, String, Text, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import Base, session_scope, utcnow

if TYPE_CHECKING:
    from bot.privacy import RetentionRun

AUDIT_RETENTION_DAYS = 730


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


def expire_audit(session: Session, run: RetentionRun) -> int:
    """Delete audit entries older than the audit log's own retention period."""
    if run.audit_cutoff is None:
        return 0
    result = session.execute(delete(AuditRow).where(AuditRow.at < run.audit_cutoff))
    return int(result.rowcount or 0)
