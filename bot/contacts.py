"""People who reach us on a channel: the one place a raw phone number or chat id is kept,
their opt-outs, and the log of inbound messages used to de-duplicate and slow floods.

Everything else refers to a person by their pseudonym (``sms-3f2a...``, see
:func:`bot.privacy.pseudonymise`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import Base, session_scope, utcnow

if TYPE_CHECKING:
    from bot.privacy import ErasureTarget, RetentionRun

FLOOD_LIMIT_PER_MINUTE = 20
RECEIVED = "received"  # stored, not answered yet (channels/pipeline.py has the rest)


class ContactRow(Base):
    """The raw address for a pseudonymous sender, kept only to reply and send updates."""

    __tablename__ = "contacts"
    sender = Column(String(128), primary_key=True)
    channel = Column(String(32), nullable=False)
    address = Column(String(128), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_menu = Column(JSON)
    last_inbound_at = Column(DateTime(timezone=True))  # WhatsApp's 24-hour session rule


class InboundRow(Base):
    """A message as it arrived, stored before anything else happens."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_inbound_channel_external_id"),
    )
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    external_id = Column(String(128), nullable=False)
    sender = Column(String(128), nullable=False)
    text = Column(Text, nullable=False)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    status = Column(String(16), nullable=False, default=RECEIVED)
    kind = Column(String(16), nullable=False, default="text")  # text, button, command, media
    attempts = Column(Integer, nullable=False, default=0)  # taken up again after a restart
    claimed_at = Column(DateTime(timezone=True))  # when a restarted server last took it up


class OptOutRow(Base):
    """Someone who said STOP (or blocked the bot): never message them until they return."""

    __tablename__ = "opt_outs"
    sender = Column(String(128), primary_key=True)
    channel = Column(String(32), nullable=False)
    opted_out_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    reason = Column(String(64), nullable=False)


def _contact_values(
    channel: str, sender: str, address: str, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new contact's row, and what a known contact's row takes again."""
    refreshed: dict[str, Any] = {"channel": channel, "address": address, "last_seen_at": now}
    return {**refreshed, "sender": sender, "created_at": now}, refreshed


def _contact_upsert(
    dialect: str, channel: str, sender: str, address: str, now: datetime, inbound: bool = False
) -> Any:
    """The contact's upsert on SQLite or PostgreSQL: its address and the time it was seen;
    with ``inbound``, also the time they last wrote (never moved backwards, as
    :func:`touch_inbound`)."""
    values, refreshed = _contact_values(channel, sender, address, now)
    if inbound:
        values["last_inbound_at"] = now
        refreshed["last_inbound_at"] = case(
            ((ContactRow.last_inbound_at.is_(None)) | (ContactRow.last_inbound_at < now), now),
            else_=ContactRow.last_inbound_at,
        )
    upsert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(ContactRow)
    return upsert.values(**values).on_conflict_do_update(
        index_elements=[ContactRow.sender], set_=refreshed
    )


def remember_contact(engine: Engine, channel: str, sender: str, address: str) -> None:
    """Keep (or refresh) the raw address for ``sender``.

    Race-free: two requests from a new sender at once make one row and raise nothing
    (an upsert on SQLite and PostgreSQL; insert-then-update elsewhere).
    """
    now = utcnow()
    dialect = engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        with engine.begin() as connection:
            connection.execute(_contact_upsert(dialect, channel, sender, address, now))
        return
    values, refreshed = _contact_values(channel, sender, address, now)
    try:
        with engine.begin() as connection:
            connection.execute(insert(ContactRow).values(**values))
    except IntegrityError:
        with engine.begin() as connection:
            connection.execute(
                update(ContactRow).where(ContactRow.sender == sender).values(**refreshed)
            )


def touch_inbound(engine: Engine, sender: str, when: datetime | None = None) -> bool:
    """Record that ``sender`` just wrote to us (``when``, default now): WhatsApp lets us
    send free text for 24 hours after it. Never moves the time backwards. True if the
    contact exists."""
    moment = when or utcnow()
    with session_scope(engine) as session:
        result = session.execute(
            update(ContactRow)
            .where(ContactRow.sender == sender)
            .where((ContactRow.last_inbound_at.is_(None)) | (ContactRow.last_inbound_at < moment))
            .values(last_inbound_at=moment)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            return True
        return session.get(ContactRow, sender) is not None


def contact_address(engine: Engine, sender: str) -> str | None:
    with session_scope(engine) as session:
        row = session.get(ContactRow, sender)
        return str(row.address) if row else None


def save_menu(engine: Engine, sender: str, buttons: list[dict[str, Any]] | None) -> None:
    """Remember the numbered menu last shown, so a reply of "1" picks its first option."""
    with session_scope(engine) as session:
        row = session.get(ContactRow, sender)
        if row is not None:
            row.last_menu = buttons or None


def last_menu(engine: Engine, sender: str) -> list[dict[str, Any]]:
    with session_scope(engine) as session:
        row = session.get(ContactRow, sender)
        return list(row.last_menu or []) if row else []


def record_inbound(
    engine: Engine, channel: str, external_id: str, sender: str, text: str, kind: str = "text"
) -> bool:
    """Store an inbound message; False when this delivery was seen before (a retry)."""
    try:
        with session_scope(engine) as session:
            session.add(
                InboundRow(
                    channel=channel, external_id=external_id, sender=sender, text=text, kind=kind
                )
            )
        return True
    except IntegrityError:
        return False


@dataclass(frozen=True)
class Unanswered:
    """A stored message a restarted server takes up again, with where to answer it."""

    channel: str
    external_id: str
    sender: str
    text: str
    kind: str
    attempts: int  # including this one
    address: str | None


def claim_unanswered(
    engine: Engine,
    channel: str,
    older_than: timedelta,
    newer_than: timedelta,
    limit: int = 50,
    now: datetime | None = None,
) -> list[Unanswered]:
    """Take up messages on ``channel`` still "received" ``older_than`` after they came (or
    after a restarted server last took them up), but not older than ``newer_than``.

    Each is claimed with one conditional update (attempts + 1, claimed_at now), so two
    servers sweeping at once never take the same message."""
    moment = now or utcnow()
    stale = moment - older_than
    waiting = and_(
        InboundRow.channel == channel,
        InboundRow.status == RECEIVED,
        InboundRow.received_at < stale,
        InboundRow.received_at >= moment - newer_than,
        (InboundRow.claimed_at.is_(None)) | (InboundRow.claimed_at < stale),
    )
    claimed: list[Unanswered] = []
    with session_scope(engine) as session:
        rows = session.execute(
            select(InboundRow.id, InboundRow.attempts)
            .where(waiting)
            .order_by(InboundRow.received_at)
            .limit(limit)
        ).all()
    for row_id, attempts in rows:
        with session_scope(engine) as session:
            result = session.execute(
                update(InboundRow)
                .where(InboundRow.id == row_id, InboundRow.attempts == attempts, waiting)
                .values(attempts=attempts + 1, claimed_at=moment)
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:
                continue  # another server took it
            row = session.get(InboundRow, row_id)
            if row is None:
                continue
            contact = session.get(ContactRow, row.sender)
            claimed.append(
                Unanswered(
                    str(row.channel), str(row.external_id), str(row.sender), str(row.text),
                    str(row.kind), int(row.attempts), str(contact.address) if contact else None,
                )
            )  # fmt: skip
    return claimed


@dataclass(frozen=True)
class Arrival:
    """What storing a message found: whether it is new, and the sender's count this minute."""

    new: bool
    recent: int = 0


def admit(
    engine: Engine,
    channel: str,
    external_id: str,
    sender: str,
    address: str,
    text: str,
    kind: str = "text",
) -> Arrival:
    """Keep the sender's address, note the time they wrote (WhatsApp's 24-hour rule), store
    the message once, and count their messages in the last minute: one call, so a channel
    makes a single trip to a worker thread for all of it, and one transaction (on SQLite
    and PostgreSQL: the contact's upsert, the message's insert that does nothing for a
    repeated delivery, and the count), so an arrival takes the write lock once.

    A repeat still refreshes the contact and the time they wrote, as a first delivery does.
    """
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        remember_contact(engine, channel, sender, address)
        touch_inbound(engine, sender)
        if not record_inbound(engine, channel, external_id, sender, text, kind):
            return Arrival(False)
        return Arrival(True, recent_count(engine, sender))
    dialect_insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    now = utcnow()
    contact = _contact_upsert(dialect, channel, sender, address, now, inbound=True)
    message = (
        dialect_insert(InboundRow)
        .values(
            channel=channel,
            external_id=external_id,
            sender=sender,
            text=text,
            kind=kind,
            received_at=now,
            status=RECEIVED,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=[InboundRow.channel, InboundRow.external_id])
    )
    since = now - timedelta(seconds=60)
    with engine.begin() as connection:
        connection.execute(contact)
        if not connection.execute(message).rowcount:
            return Arrival(False)  # Twilio or Telegram delivered it again
        recent = connection.scalar(
            select(func.count(InboundRow.id)).where(
                InboundRow.sender == sender, InboundRow.received_at >= since
            )
        )
    return Arrival(True, int(recent or 0))


@dataclass(frozen=True)
class Standing:
    """Where the sender stands before a turn: why they opted out (or None), the last menu."""

    opted_out: str | None
    menu: list[dict[str, Any]]


def standing(engine: Engine, sender: str) -> Standing:
    with session_scope(engine) as session:
        opt_out = session.get(OptOutRow, sender)
        contact = session.get(ContactRow, sender)
        menu = list(contact.last_menu or []) if contact else []
        return Standing(str(opt_out.reason) if opt_out else None, menu)


def set_inbound_status(engine: Engine, channel: str, external_id: str, status: str) -> None:
    with session_scope(engine) as session:
        row = session.scalars(
            select(InboundRow).where(
                InboundRow.channel == channel, InboundRow.external_id == external_id
            )
        ).one_or_none()
        if row is not None:
            row.status = status


def recent_count(engine: Engine, sender: str, seconds: int = 60) -> int:
    """How many messages ``sender`` sent in the last ``seconds``."""
    since = utcnow() - timedelta(seconds=seconds)
    with session_scope(engine) as session:
        query = select(func.count(InboundRow.id)).where(
            InboundRow.sender == sender, InboundRow.received_at >= since
        )
        return int(session.scalar(query) or 0)


def opt_out(engine: Engine, channel: str, sender: str, reason: str) -> None:
    with session_scope(engine) as session:
        if session.get(OptOutRow, sender) is None:
            session.add(OptOutRow(sender=sender, channel=channel, reason=reason))


def opt_in(engine: Engine, sender: str) -> bool:
    """Remove an opt-out; True if there was one."""
    with session_scope(engine) as session:
        result = session.execute(delete(OptOutRow).where(OptOutRow.sender == sender))
        return bool(result.rowcount)


def is_opted_out(engine: Engine, sender: str) -> bool:
    with session_scope(engine) as session:
        return session.get(OptOutRow, sender) is not None


def erase_contacts(session: Session, target: ErasureTarget) -> int:
    """Delete the person's contact rows (and the number a call asked us to text) and their
    inbound messages; queue the deletion of their texts at Twilio."""
    from bot.privacy import queue_twilio_deletions

    ids = target.ids
    sids = session.scalars(
        select(InboundRow.external_id).where(
            InboundRow.sender.in_(ids), InboundRow.channel.in_(TWILIO_CHANNELS)
        )
    ).all()
    queue_twilio_deletions(session, [str(s) for s in sids])
    inbound = session.execute(delete(InboundRow).where(InboundRow.sender.in_(ids)))
    contact = session.execute(delete(ContactRow).where(ContactRow.sender.in_(ids)))
    return int(contact.rowcount or 0) + int(inbound.rowcount or 0)


def expire_contacts(session: Session, run: RetentionRun) -> int:
    """Forget addresses not used since the cutoff, unless an open case still needs them."""
    from bot.routing.cases import CLOSED, CaseRow

    open_case = exists().where(and_(CaseRow.sender == ContactRow.sender, CaseRow.status != CLOSED))
    result = session.execute(
        delete(ContactRow)
        .where(ContactRow.last_seen_at < run.cutoff, ~open_case)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def expire_inbound(session: Session, run: RetentionRun) -> int:
    """Delete inbound messages older than the cutoff; queue their deletion at Twilio."""
    from bot.privacy import queue_twilio_deletions

    old = InboundRow.received_at < run.cutoff
    sids = session.scalars(
        select(InboundRow.external_id).where(old, InboundRow.channel.in_(TWILIO_CHANNELS))
    ).all()
    queue_twilio_deletions(session, [str(s) for s in sids])
    result = session.execute(delete(InboundRow).where(old))
    return int(result.rowcount or 0)


TWILIO_CHANNELS = ("sms", "whatsapp")
