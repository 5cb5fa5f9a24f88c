"""The outbox: every outbound message is stored first, then delivered with retries.

A message waits as ``pending`` until a worker delivers it. A temporary failure backs off
(30 s, 1 min, 2 min, ... up to an hour) and after ``MAX_ATTEMPTS`` the message is
``dead`` for staff to look at; a permanent failure is ``dead`` at once. Nothing is lost if
the process stops between receiving and sending: the worker picks up where it left off.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Column, DateTime, Integer, String, Text, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.contacts import contact_address, is_opted_out
from bot.db import Base, session_scope, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
PENDING, SENDING, SENT, DEAD, SUPPRESSED = "pending", "sending", "sent", "dead", "suppressed"
LEASE = timedelta(minutes=5)  # a worker that dies mid-send frees its message after this


class OutboxRow(Base):
    """One outbound message and where it is on its way."""

    __tablename__ = "outbox"
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    recipient = Column(String(128), nullable=False)
    body = Column(Text, nullable=False)
    dedupe_key = Column(String(128), unique=True)
    status = Column(String(16), nullable=False, default=PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_error = Column(Text)
    provider_id = Column(String(64))
    delivery_status = Column(String(32))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = Column(DateTime(timezone=True))


class TemporaryFailure(Exception):
    """Try again later (a 5xx, a timeout, a rate limit)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Do not try again (an invalid number, a blocked bot)."""


class Sender(Protocol):
    """Delivers one message on one channel; returns the provider's message id."""

    async def send(self, address: str, body: str) -> str: ...


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    suppressed: int = 0


def enqueue(
    engine: Engine, channel: str, recipient: str, body: str, dedupe_key: str | None = None
) -> int:
    """Store a message to send; the same ``dedupe_key`` is only ever queued once."""
    try:
        with session_scope(engine) as session:
            row = OutboxRow(channel=channel, recipient=recipient, body=body, dedupe_key=dedupe_key)
            session.add(row)
            session.flush()
            return int(row.id)
    except IntegrityError:
        with session_scope(engine) as session:
            existing = session.scalars(
                select(OutboxRow).where(OutboxRow.dedupe_key == dedupe_key)
            ).one()
            return int(existing.id)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempts - 1)))


def _address(engine: Engine, row: OutboxRow) -> str | None:
    """A pseudonymous recipient ("sms-...") is looked up; anything else is an address."""
    recipient = str(row.recipient)
    if recipient.startswith(f"{row.channel}-"):
        return contact_address(engine, recipient)
    return recipient


async def deliver_due(
    engine: Engine,
    senders: Mapping[str, Sender],
    now: datetime | None = None,
    limit: int = 50,
) -> DeliveryReport:
    """Send every due message on the channels in ``senders``; return what happened.

    Each message is claimed before sending, so several workers (one per server) can run
    side by side without sending anything twice.
    """
    moment = now or utcnow()
    with session_scope(engine) as session:
        due = list(
            session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.status.in_((PENDING, SENDING)),
                    OutboxRow.next_attempt_at <= moment,
                    OutboxRow.channel.in_(list(senders)),
                )
                .order_by(OutboxRow.id)
                .limit(limit)
            )
        )
    counts = {SENT: 0, "retrying": 0, DEAD: 0, SUPPRESSED: 0}
    for row in due:
        if not _claim(engine, row, moment):
            continue
        outcome = await _deliver_one(engine, row, senders, moment)
        counts[outcome] += 1
    return DeliveryReport(counts[SENT], counts["retrying"], counts[DEAD], counts[SUPPRESSED])


def _claim(engine: Engine, row: OutboxRow, moment: datetime) -> bool:
    """Take a message for this worker; False if another worker took it first."""
    with session_scope(engine) as session:
        result = session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == row.id,
                OutboxRow.status == row.status,
                OutboxRow.next_attempt_at == row.next_attempt_at,
            )
            .values(status=SENDING, next_attempt_at=moment + LEASE)
        )
        return bool(result.rowcount)


async def _deliver_one(
    engine: Engine, row: OutboxRow, senders: Mapping[str, Sender], moment: datetime
) -> str:
    sender = senders.get(str(row.channel))
    address = _address(engine, row)
    update: dict[str, object]
    if is_opted_out(engine, str(row.recipient)):
        update, outcome = {"status": SUPPRESSED, "last_error": "recipient opted out"}, SUPPRESSED
    elif sender is None or address is None:
        why = "no sender for this channel" if sender is None else "no address for recipient"
        update, outcome = {"status": DEAD, "last_error": why}, DEAD
    else:
        attempts = int(row.attempts) + 1
        try:
            provider_id = await sender.send(address, str(row.body))
        except TemporaryFailure as exc:
            delay = timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(attempts)
            dead = attempts >= MAX_ATTEMPTS
            update = {
                "attempts": attempts,
                "last_error": str(exc)[:500],
                "status": DEAD if dead else PENDING,
                "next_attempt_at": moment + delay,
            }
            outcome = DEAD if dead else "retrying"
        except PermanentFailure as exc:
            update, outcome = {"attempts": attempts, "status": DEAD, "last_error": str(exc)}, DEAD
        else:
            update = {
                "attempts": attempts,
                "status": SENT,
                "provider_id": provider_id,
                "sent_at": moment,
                "last_error": None,
            }
            outcome = SENT
    with session_scope(engine) as session:
        stored = session.get(OutboxRow, row.id)
        if stored is not None:
            for key, value in update.items():
                setattr(stored, key, value)
    log.info("outbox %s: message %s to %s", outcome, row.id, row.recipient)
    return outcome


def record_delivery_status(engine: Engine, provider_id: str, status: str) -> bool:
    """Store a provider's delivery report (Twilio status callback); True if matched."""
    with session_scope(engine) as session:
        row = session.scalars(
            select(OutboxRow).where(OutboxRow.provider_id == provider_id)
        ).one_or_none()
        if row is None:
            return False
        row.delivery_status = status
        return True


def messages_for(engine: Engine, recipient: str) -> list[OutboxRow]:
    with session_scope(engine) as session:
        query = select(OutboxRow).where(OutboxRow.recipient == recipient).order_by(OutboxRow.id)
        return list(session.scalars(query))


def dead_letters(engine: Engine) -> list[OutboxRow]:
    """Messages that gave up (``dead``), newest first, for staff to look at."""
    with session_scope(engine) as session:
        query = select(OutboxRow).where(OutboxRow.status == DEAD).order_by(OutboxRow.id.desc())
        return list(session.scalars(query))


def retry(engine: Engine, outbox_id: int) -> bool:
    """Send a dead message again: back to ``pending`` with fresh attempts; False if not dead."""
    with session_scope(engine) as session:
        result = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == outbox_id, OutboxRow.status == DEAD)
            .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), last_error=None)
        )
        return bool(result.rowcount)
