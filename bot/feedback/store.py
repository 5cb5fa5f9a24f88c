"""Store feedback, publish "You said, we did" items, and find who to tell about them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import Base, session_scope, utcnow

if TYPE_CHECKING:
    from bot.privacy import ErasureTarget, RetentionRun

GENERAL = "general"
FEEDBACK, PRAISE = "feedback", "praise"  # kinds: the form's feedback; thanks for a service
CONSENT_WORDING = (
    "Would you like a reply? We will keep your contact details only to reply to you "
    "and to tell you what changed."
)


class FeedbackRow(Base):
    """One piece of feedback. ``sender`` and ``conversation_id`` are kept only with consent."""

    __tablename__ = "feedback"
    id = Column(Integer, primary_key=True)
    dedupe_key = Column(String(64), nullable=False, unique=True)
    channel = Column(String(32), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    service_key = Column(String(64), nullable=False)
    rating = Column(Integer)
    kind = Column(String(16), nullable=False, default=FEEDBACK, server_default=FEEDBACK)
    text = Column(Text, nullable=False)
    themes = Column(JSON, nullable=False, default=list)
    consent = Column(Boolean, nullable=False, default=False)
    consent_wording = Column(Text)
    consent_at = Column(DateTime(timezone=True))
    sender = Column(String(128))
    conversation_id = Column(String(128))


class YouSaidWeDidRow(Base):
    """What a service changed in response to feedback on a theme or about itself."""

    __tablename__ = "you_said_we_did"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    service_key = Column(String(64))
    theme = Column(String(64))
    you_said = Column(Text, nullable=False)
    we_did = Column(Text, nullable=False)


class NoticeRow(Base):
    """A family told about a "You said, we did" item (so nobody is told twice)."""

    __tablename__ = "you_said_we_did_notices"
    item_id = Column(Integer, ForeignKey("you_said_we_did.id"), primary_key=True)
    feedback_id = Column(Integer, ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True)
    sent_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


@dataclass(frozen=True)
class NewFeedback:
    """What the feedback form collected."""

    channel: str
    conversation_id: str
    turn_id: str
    service_key: str
    rating: int | None
    text: str
    themes: tuple[str, ...]
    consent: bool
    kind: str = FEEDBACK


def dedupe_key(conversation_id: str, turn_id: str) -> str:
    """One record per form submission, however often the same delivery arrives."""
    return hashlib.sha256(f"{conversation_id}|{turn_id}".encode()).hexdigest()


def record_feedback(engine: Engine, new: NewFeedback) -> tuple[int, bool]:
    """Store feedback once; return its id and whether it was new."""
    key = dedupe_key(new.conversation_id, new.turn_id)
    now = utcnow()
    row = FeedbackRow(
        dedupe_key=key,
        channel=new.channel,
        created_at=now,
        service_key=new.service_key or GENERAL,
        rating=new.rating,
        kind=new.kind,
        text=new.text,
        themes=list(new.themes),
        consent=new.consent,
        consent_wording=CONSENT_WORDING if new.consent else None,
        consent_at=now if new.consent else None,
        sender=new.conversation_id if new.consent else None,
        conversation_id=new.conversation_id if new.consent else None,
    )
    try:
        with session_scope(engine) as session:
            session.add(row)
            session.flush()
            return int(row.id), True
    except IntegrityError:
        with session_scope(engine) as session:
            existing = session.scalars(
                select(FeedbackRow).where(FeedbackRow.dedupe_key == key)
            ).one()
            return int(existing.id), False


def publish(
    engine: Engine, you_said: str, we_did: str, service_key: str | None, theme: str | None
) -> tuple[int, list[FeedbackRow]]:
    """Publish an item; return its id and the consenting feedback whose givers to tell."""
    with session_scope(engine) as session:
        item = YouSaidWeDidRow(
            you_said=you_said, we_did=we_did, service_key=service_key, theme=theme
        )
        session.add(item)
        session.flush()
        related = _related(session, service_key, theme)
        for row in related:
            session.add(NoticeRow(item_id=item.id, feedback_id=row.id))
        return int(item.id), related


def _related(session: Session, service_key: str | None, theme: str | None) -> list[FeedbackRow]:
    return [
        row
        for row in session.scalars(
            select(FeedbackRow).where(
                FeedbackRow.consent.is_(True), FeedbackRow.conversation_id.is_not(None)
            )
        )
        if (service_key and row.service_key == service_key)
        or (theme and theme in (row.themes or []))
    ]


def related_feedback(
    engine: Engine, service_key: str | None, theme: str | None
) -> list[FeedbackRow]:
    """Consenting feedback an item about ``service_key`` or ``theme`` would answer."""
    with session_scope(engine) as session:
        return _related(session, service_key, theme)


def latest_items(engine: Engine, limit: int = 3) -> list[YouSaidWeDidRow]:
    """The newest "You said, we did" items."""
    with session_scope(engine) as session:
        query = select(YouSaidWeDidRow).order_by(YouSaidWeDidRow.id.desc()).limit(limit)
        return list(session.scalars(query))


def feedback_between(engine: Engine, start: datetime, end: datetime) -> list[FeedbackRow]:
    """All feedback received in [start, end)."""
    with session_scope(engine) as session:
        query = select(FeedbackRow).where(
            FeedbackRow.created_at >= start, FeedbackRow.created_at < end
        )
        return list(session.scalars(query.order_by(FeedbackRow.id)))


RECORDING = "(voice recording)"
RECORDING_GONE = "(voice recording, deleted)"
RECORDING_SID = re.compile(r"\bRE[0-9a-fA-F]{32}\b")


def _recording_sids(rows: list[FeedbackRow]) -> list[str]:
    return [m.group(0) for r in rows if (m := RECORDING_SID.search(str(r.text)))]


def erase_feedback(session: Session, target: ErasureTarget) -> int:
    """Delete feedback the person agreed to be contacted about; queue the deletion of its
    voice recordings at Twilio. Anonymous feedback cannot be linked to them and stays."""
    from bot.privacy import queue_twilio_deletions

    mine = or_(FeedbackRow.conversation_id.in_(target.ids), FeedbackRow.sender.in_(target.ids))
    queue_twilio_deletions(
        session, _recording_sids(list(session.scalars(select(FeedbackRow).where(mine))))
    )
    result = session.execute(delete(FeedbackRow).where(mine))
    return int(result.rowcount or 0)


def expire_feedback(session: Session, run: RetentionRun) -> int:
    """Past the cutoff: feedback loses its link to the person, and voice recordings are
    deleted at Twilio (the row keeps a note that there was one)."""
    from bot.privacy import queue_twilio_deletions

    old = FeedbackRow.created_at < run.cutoff
    recordings = list(
        session.scalars(select(FeedbackRow).where(old, FeedbackRow.text.startswith(RECORDING)))
    )
    queue_twilio_deletions(session, _recording_sids(recordings))
    for row in recordings:
        row.text = RECORDING_GONE
    unlinked = session.execute(
        update(FeedbackRow)
        .where(
            old,
            or_(FeedbackRow.conversation_id.is_not(None), FeedbackRow.sender.is_not(None)),
        )
        .values(sender=None, conversation_id=None)
        .execution_options(synchronize_session=False)
    )
    return int(unlinked.rowcount or 0) + len(recordings)
