"""The outbox: every outbound message is stored first, then delivered with retries.

A message waits as ``pending`` until a worker (``python -m bot outbox run``) claims it.
The claim is counted from the moment it is taken, lasts ``LEASE``, and the worker checks
the claim is still its own before it records the outcome, so two workers never both
record a message, and a worker that dies mid-send frees the message when the lease ends.

A temporary failure backs off (30 s, 1 min, 2 min, ...). After ``MAX_ATTEMPTS`` an ordinary
message is ``dead``; an *essential* one (a service's case, a safeguarding alert, an
operations alert, a deletion at Twilio) never dies of a temporary failure: it keeps
trying every ``ESSENTIAL_MAX_DELAY`` and is listed by :func:`dead_letters`. Either way,
:func:`raise_alerts` tells the operations contact once. A permanent failure is ``dead``
at once. When the provider says the person opted out (Twilio 21610, a blocked Telegram
bot) they are opted out and the message is ``suppressed``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    String,
    Text,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.contacts import ContactRow, is_opted_out, opt_out
from bot.db import Base, session_scope, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
ESSENTIAL_MAX_DELAY_SECONDS = 600
PENDING, SENDING, SENT, DEAD, SUPPRESSED = "pending", "sending", "sent", "dead", "suppressed"
LEASE = timedelta(minutes=5)  # longer than any sender's time-out (Twilio 30 s, SMTP 30 s)

# What a message is. Essential kinds never die of a temporary failure.
MESSAGE, REPLY, CASE_UPDATE, YOU_SAID = "message", "reply", "case_update", "you_said"
SERVICE, SAFEGUARDING, ALERT, ERASURE = "service", "safeguarding", "alert", "erasure"
ESSENTIAL = frozenset({SERVICE, SAFEGUARDING, ALERT, ERASURE})


class OutboxRow(Base):
    """One outbound message and where it is on its way."""

    __tablename__ = "outbox"
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    recipient = Column(String(128), nullable=False, index=True)
    body = Column(Text, nullable=False)
    dedupe_key = Column(String(128), unique=True)
    status = Column(String(16), nullable=False, default=PENDING, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_error = Column(Text)
    provider_id = Column(Text, index=True)
    delivery_status = Column(String(32))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = Column(DateTime(timezone=True))
    kind = Column(String(32), nullable=False, default=MESSAGE, server_default=MESSAGE)
    person = Column(String(128), index=True)
    case_reference = Column(String(16))
    buttons = Column(JSON)
    claim_token = Column(String(32))
    claimed_at = Column(DateTime(timezone=True))
    alerted_at = Column(DateTime(timezone=True))


class TemporaryFailure(Exception):
    """Try again later (a 5xx, a timeout, a rate limit)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Do not try again (an invalid number, a refused address)."""


class RecipientOptedOut(PermanentFailure):
    """The provider says the person does not want our messages (Twilio 21610, a blocked
    Telegram bot): they are opted out, and the message is suppressed."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Outgoing:
    """Everything a sender may need about one message."""

    id: int
    channel: str
    kind: str
    address: str
    body: str
    buttons: tuple[dict[str, str], ...] = ()
    last_inbound_at: datetime | None = None
    # Set when an earlier attempt was cut off mid-send (the worker died): the message may
    # already have gone, so a sender that can ask its provider should look first.
    interrupted_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        return f"outbox-{self.id}"


class Sender(Protocol):
    """Delivers one message on one channel; returns the provider's message id."""

    async def send(self, address: str, body: str) -> str: ...


class MessageSender(Protocol):
    """A sender that wants the whole message (kind, buttons, idempotency key)."""

    async def send_message(self, message: Outgoing) -> str: ...


AnySender = Sender | MessageSender


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    suppressed: int = 0
    lost: int = 0  # our claim ran out mid-send and another worker took the message


# Called in the same transaction as a message's "sent" update, by kind (cases use it to
# mark a case "sent" only once its notification is delivered).
DeliveredHook = Callable[[Session, OutboxRow], None]
DELIVERED_HOOKS: dict[str, DeliveredHook] = {}


def on_delivered(kind: str) -> Callable[[DeliveredHook], DeliveredHook]:
    def decorator(func: DeliveredHook) -> DeliveredHook:
        DELIVERED_HOOKS[kind] = func
        return func

    return decorator


def enqueue(
    engine: Engine,
    channel: str,
    recipient: str,
    body: str,
    dedupe_key: str | None = None,
    *,
    kind: str = MESSAGE,
    person: str | None = None,
    case_reference: str | None = None,
    buttons: Sequence[dict[str, str]] | None = None,
) -> int:
    """Store a message to send; the same ``dedupe_key`` is only ever queued once.

    ``person`` is the conversation the message is about (the recipient's own, or the
    family's for a message to staff), so "delete my data" can find it.
    """
    row = new_message(
        channel, recipient, body, dedupe_key,
        kind=kind, person=person, case_reference=case_reference, buttons=buttons,
    )  # fmt: skip
    try:
        with session_scope(engine) as session:
            session.add(row)
            session.flush()
            return int(row.id)
    except IntegrityError:
        if dedupe_key is None:
            raise
        with session_scope(engine) as session:
            existing = session.scalars(
                select(OutboxRow).where(OutboxRow.dedupe_key == dedupe_key)
            ).one()
            return int(existing.id)


def new_message(
    channel: str,
    recipient: str,
    body: str,
    dedupe_key: str | None = None,
    *,
    kind: str = MESSAGE,
    person: str | None = None,
    case_reference: str | None = None,
    buttons: Sequence[dict[str, str]] | None = None,
) -> OutboxRow:
    """A message to add in the caller's own transaction (see :func:`enqueue`)."""
    return OutboxRow(
        channel=channel,
        recipient=recipient,
        body=body,
        dedupe_key=dedupe_key,
        kind=kind,
        person=person if person is not None else _own_conversation(channel, recipient),
        case_reference=case_reference,
        buttons=[dict(b) for b in buttons] if buttons else None,
    )


def _own_conversation(channel: str, recipient: str) -> str | None:
    """A pseudonymous recipient ("sms-...") is the person the message is about."""
    return recipient if recipient.startswith(f"{channel}-") else None


def backoff(attempts: int, essential: bool = False) -> timedelta:
    ceiling = ESSENTIAL_MAX_DELAY_SECONDS if essential else MAX_DELAY_SECONDS
    return timedelta(seconds=min(ceiling, BASE_DELAY_SECONDS * 2 ** max(0, attempts - 1)))


def _clock(now: datetime | None) -> Callable[[], datetime]:
    """Real time, or ``now`` moving on with real time (tests pretend to be later)."""
    if now is None:
        return utcnow
    started = utcnow()
    return lambda: now + (utcnow() - started)


@dataclass(frozen=True)
class _Claim:
    row: OutboxRow  # as it was just before the claim
    token: str
    at: datetime


def _due(moment: datetime) -> Any:
    return and_(OutboxRow.status.in_((PENDING, SENDING)), OutboxRow.next_attempt_at <= moment)


def _claim(engine: Engine, row_id: int, moment: datetime, lease: timedelta) -> _Claim | None:
    """Take message ``row_id`` for this worker from ``moment`` for ``lease``; None if it is
    not due or another worker took it first. Every claim counts as an attempt, so a
    message that kills its worker every time still ends up listed."""
    token = uuid.uuid4().hex
    with session_scope(engine) as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.id == row_id, _due(moment))).first()
        if row is None:
            return None
        same_claim = (
            OutboxRow.claim_token.is_(None)
            if row.claim_token is None
            else OutboxRow.claim_token == row.claim_token
        )
        result = session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.status == row.status, same_claim, _due(moment))
            .values(
                status=SENDING,
                claim_token=token,
                claimed_at=moment,
                next_attempt_at=moment + lease,
                attempts=OutboxRow.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:
            return None
    return _Claim(row, token, moment)


async def deliver_due(
    engine: Engine,
    senders: Mapping[str, AnySender],
    now: datetime | None = None,
    limit: int = 50,
    lease: timedelta = LEASE,
    stop: asyncio.Event | None = None,
) -> DeliveryReport:
    """Send every due message on the channels in ``senders``; return what happened.

    Each message is claimed just before it is sent, so several workers can run side by
    side without sending anything twice. ``stop`` ends the round between two messages.
    """
    import bot.routing.cases  # noqa: F401  (its hook marks a case sent on delivery)

    clock = _clock(now)
    with session_scope(engine) as session:
        ids = list(
            session.scalars(
                select(OutboxRow.id)
                .where(_due(clock()), OutboxRow.channel.in_(list(senders)))
                .order_by(OutboxRow.id)
                .limit(limit)
            )
        )
    counts = {SENT: 0, "retrying": 0, DEAD: 0, SUPPRESSED: 0, "lost": 0}
    for row_id in ids:
        if stop is not None and stop.is_set():
            break
        claim = _claim(engine, row_id, clock(), lease)
        if claim is None:
            continue
        counts[await _deliver_one(engine, claim, senders, clock)] += 1
    return DeliveryReport(
        counts[SENT], counts["retrying"], counts[DEAD], counts[SUPPRESSED], counts["lost"]
    )


def _outgoing(engine: Engine, claim: _Claim) -> Outgoing | None:
    """The message with its address (a pseudonym is looked up in contacts), or None."""
    row = claim.row
    recipient = str(row.recipient)
    last_inbound = None
    if recipient.startswith(f"{row.channel}-"):
        with session_scope(engine) as session:
            contact = session.get(ContactRow, recipient)
            if contact is None:
                return None
            address, last_inbound = str(contact.address), contact.last_inbound_at
    else:
        address = recipient
    return Outgoing(
        id=int(row.id),
        channel=str(row.channel),
        kind=str(row.kind or MESSAGE),
        address=address,
        body=str(row.body),
        buttons=tuple(row.buttons or ()),
        last_inbound_at=last_inbound,
        interrupted_at=row.claimed_at if row.status == SENDING else None,
    )


async def _send(sender: AnySender, message: Outgoing) -> str:
    send_message = getattr(sender, "send_message", None)
    if send_message is not None:
        return str(await send_message(message))
    return str(await sender.send(message.address, message.body))  # type: ignore[union-attr]


async def _deliver_one(
    engine: Engine,
    claim: _Claim,
    senders: Mapping[str, AnySender],
    clock: Callable[[], datetime],
) -> str:
    row = claim.row
    attempts = int(row.attempts) + 1
    essential = str(row.kind) in ESSENTIAL
    sender = senders.get(str(row.channel))
    values: dict[str, object]
    if is_opted_out(engine, str(row.recipient)):
        values, outcome = {"status": SUPPRESSED, "last_error": "recipient opted out"}, SUPPRESSED
    elif sender is None or (message := _outgoing(engine, claim)) is None:
        why = "no sender for this channel" if sender is None else "no address for recipient"
        values, outcome = {"status": DEAD, "last_error": why}, DEAD
    else:
        try:
            provider_id = await _send(sender, message)
        except TemporaryFailure as exc:
            gives_up = attempts >= MAX_ATTEMPTS and not essential
            delay = (
                timedelta(seconds=exc.retry_after)
                if exc.retry_after
                else backoff(attempts, essential)
            )
            values = {
                "last_error": _short(str(exc)),
                "status": DEAD if gives_up else PENDING,
                "next_attempt_at": clock() + delay,
            }
            outcome = DEAD if gives_up else "retrying"
        except RecipientOptedOut as exc:
            opt_out(engine, str(row.channel), str(row.recipient), exc.reason)
            values = {"status": SUPPRESSED, "last_error": _short(str(exc))}
            outcome = SUPPRESSED
        except PermanentFailure as exc:
            values, outcome = {"status": DEAD, "last_error": _short(str(exc))}, DEAD
        except Exception as exc:  # a sender's bug must not leave the message claimed
            log.exception("outbox: the %s sender failed unexpectedly", row.channel)
            values = {
                "last_error": _short(f"unexpected error: {exc!r}"),
                "status": PENDING,
                "next_attempt_at": clock() + backoff(attempts, True),
            }
            outcome = "retrying"
        else:
            values = {
                "status": SENT,
                "provider_id": provider_id,
                "sent_at": clock(),
                "last_error": None,
            }
            outcome = SENT
    values["claim_token"] = None
    if not _finish(engine, claim, values):
        log.warning(
            "outbox: message %s: our claim ran out before we finished (%s); another worker "
            "has it now",
            row.id,
            outcome,
        )
        return "lost"
    log.info("outbox %s: message %s (%s, %s)", outcome, row.id, row.channel, row.kind)
    return outcome


def _finish(engine: Engine, claim: _Claim, values: dict[str, object]) -> bool:
    """Record the outcome if the claim is still ours (and, once sent, run the kind's hook)."""
    with session_scope(engine) as session:
        result = session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == claim.row.id,
                OutboxRow.status == SENDING,
                OutboxRow.claim_token == claim.token,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:
            return False
        if values.get("status") == SENT and (hook := DELIVERED_HOOKS.get(str(claim.row.kind))):
            stored = session.get(OutboxRow, claim.row.id)
            if stored is not None:
                hook(session, stored)
    return True


def _short(text: str) -> str:
    return text[:500]


# --- staff: dead letters, re-sending, alerts ---------------------------------------------


def _needs_staff() -> Any:
    """Dead messages, essential ones past their retry budget, and essential ones suppressed."""
    return or_(
        OutboxRow.status == DEAD,
        and_(
            OutboxRow.kind.in_(ESSENTIAL),
            or_(
                and_(
                    OutboxRow.status.in_((PENDING, SENDING)),
                    OutboxRow.attempts >= MAX_ATTEMPTS,
                ),
                OutboxRow.status == SUPPRESSED,
            ),
        ),
    )


def dead_letters(engine: Engine) -> list[OutboxRow]:
    """Messages staff need to look at, oldest first: every dead message, and essential
    messages still retrying past ``MAX_ATTEMPTS`` or suppressed by an opt-out."""
    with session_scope(engine) as session:
        return list(session.scalars(select(OutboxRow).where(_needs_staff()).order_by(OutboxRow.id)))


def retry(engine: Engine, outbox_id: int) -> bool:
    """Send a dead (or overdue essential) message again now, with a fresh retry budget.

    True if it was queued again; False if there is no such message, or it is not dead
    (already sent, suppressed by an opt-out, or still on its normal retries).
    """
    with session_scope(engine) as session:
        result = session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == outbox_id,
                or_(
                    OutboxRow.status == DEAD,
                    and_(
                        OutboxRow.status == PENDING,
                        OutboxRow.kind.in_(ESSENTIAL),
                        OutboxRow.attempts >= MAX_ATTEMPTS,
                    ),
                ),
            )
            .values(
                status=PENDING,
                attempts=0,
                next_attempt_at=utcnow(),
                alerted_at=None,
                claim_token=None,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)


_NUMBER = re.compile(r"\+?\d[\d ()-]{6,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def redact(text: str) -> str:
    """``text`` without phone numbers or email addresses (for alerts and listings)."""
    return _EMAIL.sub("[address]", _NUMBER.sub("[number]", text))


@dataclass(frozen=True)
class AlertReport:
    alerted: list[int] = field(default_factory=list)
    queued_id: int | None = None


def raise_alerts(engine: Engine, contact: str, now: datetime | None = None) -> AlertReport:
    """Tell operations, once, about every message that needs them (see :func:`dead_letters`).

    One email lists them all (no message text, no addresses). Alerts about alerts are never
    made, so an unreachable operations mailbox cannot loop; they are logged instead.
    Without a ``contact`` the log is the only alert.
    """
    moment = now or utcnow()
    with session_scope(engine) as session:
        candidates = list(
            session.scalars(
                select(OutboxRow)
                .where(_needs_staff(), OutboxRow.alerted_at.is_(None))
                .order_by(OutboxRow.id)
            )
        )
        taken: list[OutboxRow] = []
        for row in candidates:
            result = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row.id, OutboxRow.alerted_at.is_(None))
                .values(alerted_at=moment)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:
                taken.append(row)
    if not taken:
        return AlertReport()
    lines = [alert_line(row) for row in taken]
    for line in lines:
        log.error("outbox needs staff: %s", line)
    wanted = [line for row, line in zip(taken, lines, strict=True) if row.kind != ALERT]
    if not contact or not wanted:
        return AlertReport([int(r.id) for r in taken])
    ids = ",".join(str(r.id) for r in taken)
    queued = enqueue(
        engine,
        "email",
        contact,
        "Outbox: these messages need someone to look at them.\n"
        + "\n".join(wanted)
        + "\n\nSee them: python -m bot outbox dead\n"
        "Send one again: python -m bot outbox retry ID",
        dedupe_key="alert:" + hashlib.sha256(ids.encode()).hexdigest()[:32],
        kind=ALERT,
    )
    return AlertReport([int(r.id) for r in taken], queued)


def alert_line(row: OutboxRow) -> str:
    """One line about a message for staff: no text, no address."""
    state = "still trying" if row.status in (PENDING, SENDING) else str(row.status)
    case = f" for case {row.case_reference}" if row.case_reference else ""
    error = redact(str(row.last_error or "no error recorded"))[:200]
    return (
        f"#{row.id} {row.kind} by {row.channel}{case}: {state} after {row.attempts} "
        f"attempt(s); last error: {error}"
    )


# --- delivery reports and lookups ---------------------------------------------------------


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


def get_message(engine: Engine, outbox_id: int) -> OutboxRow | None:
    with session_scope(engine) as session:
        return session.get(OutboxRow, outbox_id)
