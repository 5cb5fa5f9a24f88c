"""Cases: create with a reference, move through statuses, tell the service and the family.

Status history: new -> sent -> acknowledged -> in_progress -> closed (closing is allowed
from any open status). A case is ``sent`` only when the outbox has delivered its
notification to the service (a hook on delivery moves it); staff may pick up a case that
is still ``new``. Every change is a row in ``case_events``; illegal moves are refused
with a clear error. Messages to services and families go through the outbox.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from bot.db import Base, session_scope, utcnow
from bot.directory.store import load_entry
from bot.notify.outbox import (
    CASE_UPDATE,
    SERVICE,
    OutboxRow,
    enqueue,
    new_message,
    on_delivered,
)
from bot.routing.references import new_reference
from bot.routing.rules import Decision, Routing

if TYPE_CHECKING:
    from bot.privacy import ErasureTarget, RetentionRun

ERASED = "erased"
CASE_TEXT_ERASED = (
    "(The family asked us to delete their details. The text of this case was removed.)"
)
CASE_TEXT_EXPIRED = "(The text of this case was removed after the retention period.)"
REFERENCE_TRIES = 8

NEW, SENT, ACKNOWLEDGED, IN_PROGRESS, CLOSED = (
    "new", "sent", "acknowledged", "in_progress", "closed",
)  # fmt: skip
ALLOWED = {
    NEW: {SENT, ACKNOWLEDGED, IN_PROGRESS, CLOSED},
    SENT: {ACKNOWLEDGED, IN_PROGRESS, CLOSED},
    ACKNOWLEDGED: {IN_PROGRESS, CLOSED},
    IN_PROGRESS: {CLOSED},
    CLOSED: set(),
}
STATUS_WORDS = {
    NEW: "has been received. We are sending it to the team",
    SENT: "has been sent to the team. They have not picked it up yet",
    ACKNOWLEDGED: "has been picked up by the team",
    IN_PROGRESS: "is being worked on",
    CLOSED: "is closed",
}
CONSENT_WORDING = "I will keep your contact details to update you about this."
PUSH_CHANNELS = ("sms", "telegram", "whatsapp")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class CaseRow(Base):
    __tablename__ = "cases"
    id = Column(Integer, primary_key=True)
    reference = Column(String(16), unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    sender = Column(String(128))
    channel = Column(String(32), nullable=False)
    service_key = Column(String(64), nullable=False)
    category = Column(String(64), nullable=False)
    urgency = Column(String(16), nullable=False)
    summary = Column(Text, nullable=False)
    consent = Column(Boolean, nullable=False)
    consent_wording = Column(Text)
    status = Column(String(16), nullable=False, default=NEW)
    due_at = Column(DateTime(timezone=True), nullable=False)
    escalated_at = Column(DateTime(timezone=True))
    dedupe_key = Column(String(128), unique=True)


class CaseEventRow(Base):
    __tablename__ = "case_events"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"))
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    status = Column(String(16), nullable=False)
    note = Column(Text)
    by = Column(String(64), nullable=False)


class InvalidTransition(ValueError):
    """A status change the case's history does not allow."""


class CaseNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Case:
    """A case as the family and staff see it."""

    reference: str
    service_key: str
    category: str
    urgency: str
    status: str
    summary: str
    channel: str
    sender: str | None
    created_at: datetime
    due_at: datetime
    escalated_at: datetime | None = None


def _case(row: CaseRow) -> Case:
    return Case(
        reference=str(row.reference),
        service_key=str(row.service_key),
        category=str(row.category),
        urgency=str(row.urgency),
        status=str(row.status),
        summary=str(row.summary),
        channel=str(row.channel),
        sender=row.sender,
        created_at=_aware(row.created_at),
        due_at=_aware(row.due_at),
        escalated_at=_aware(row.escalated_at) if row.escalated_at else None,
    )


def service_message(case: Case, console_url: str) -> str:
    """What the receiving service is sent (no contact details: staff reply via the case)."""
    return (
        f"New case {case.reference} ({case.urgency}) from the SEND Local Offer assistant.\n"
        f"Category: {case.category}\nChannel: {case.channel}\n"
        f"What the family said:\n{case.summary}\n\n"
        f"Please acknowledge it in the staff console: {console_url}/cases/{case.reference}"
    )


def _console_url() -> str:
    """Where staff open a case (STAFF_PUBLIC_URL)."""
    from bot.config import load_settings

    return load_settings().staff_public_url


def _service_notice(
    routing: Routing, case: Case, service_key: str, key: str | None = None
) -> OutboxRow:
    """The outbox message that tells ``service_key`` about ``case`` (the one way a service
    hears of a case: when it is raised, escalated or passed on). ``key`` tells apart a
    later sending to the same service, such as a case passed back to it."""
    route = routing.route_for(service_key)
    return new_message(
        route.notify,
        route.address or service_key,
        service_message(case, _console_url()),
        dedupe_key=f"case:{case.reference}:{service_key}" + (f":{key}" if key else ""),
        kind=SERVICE,
        person=case.sender,
        case_reference=case.reference,
    )


def _notify_service(engine: Engine, routing: Routing, case: Case, service_key: str) -> None:
    notice = _service_notice(routing, case, service_key)
    enqueue(
        engine,
        str(notice.channel),
        str(notice.recipient),
        str(notice.body),
        notice.dedupe_key,
        kind=SERVICE,
        person=notice.person,
        case_reference=notice.case_reference,
    )


@on_delivered(SERVICE)
def _mark_sent(session: Session, message: OutboxRow) -> None:
    """The service has the case: a case still ``new`` becomes ``sent`` (same transaction)."""
    if not message.case_reference:
        return
    row = session.scalars(
        select(CaseRow).where(CaseRow.reference == message.case_reference)
    ).first()
    if row is None or row.status != NEW:
        return
    row.status = SENT
    session.add(
        CaseEventRow(
            case_id=row.id,
            at=message.sent_at or utcnow(),
            status=SENT,
            note=f"delivered by {message.channel}",
            by="assistant",
        )
    )


def _family_message(case: Case, text: str, key: str) -> OutboxRow | None:
    """The outbox message that sends ``text`` to the family on the channel they used, or
    None if that channel cannot carry messages (or they gave no way to reach them)."""
    if not case.sender or case.channel not in PUSH_CHANNELS:
        return None
    return new_message(
        case.channel,
        case.sender,
        text,
        dedupe_key=f"family:{case.reference}:{key}",
        kind=CASE_UPDATE,
        case_reference=case.reference,
    )


def tell_family(engine: Engine, case: Case, text: str, key: str) -> bool:
    """Send ``text`` to the family on the channel they used (if it can carry messages)."""
    message = _family_message(case, text, key)
    if message is None:
        return False
    enqueue(
        engine,
        str(message.channel),
        str(message.recipient),
        text,
        dedupe_key=message.dedupe_key,
        kind=CASE_UPDATE,
        case_reference=case.reference,
    )
    return True


def create_case(
    engine: Engine,
    routing: Routing,
    decision: Decision,
    summary: str,
    channel: str,
    sender: str,
    consent: bool,
    turn_id: str,
    now: datetime | None = None,
) -> Case:
    """Store a case (once per conversation turn) with a new random reference, and queue
    its notification to the service in the same transaction. The case stays ``new``
    until that is delivered."""
    moment = now or utcnow()
    dedupe = hashlib.sha256(f"{sender}|{turn_id}".encode()).hexdigest()
    for _ in range(REFERENCE_TRIES):
        try:
            return _store_case(
                engine, routing, decision, summary, channel, sender, consent, dedupe, moment
            )
        except IntegrityError:  # the same turn stored a moment ago, or a reference taken
            continue
    raise RuntimeError("could not store the case: no free reference after several tries")


def _store_case(
    engine: Engine,
    routing: Routing,
    decision: Decision,
    summary: str,
    channel: str,
    sender: str,
    consent: bool,
    dedupe: str,
    moment: datetime,
) -> Case:
    """The case of this turn if it exists, else a new one with its service notice."""
    with session_scope(engine) as session:
        existing = session.scalars(select(CaseRow).where(CaseRow.dedupe_key == dedupe)).first()
        if existing is not None:
            return _case(existing)
        target = routing.route_for(decision.service).target_hours
        row = CaseRow(
            reference=new_reference(),
            created_at=moment,
            sender=sender if consent else None,
            channel=channel,
            service_key=decision.service,
            category=decision.category,
            urgency=decision.urgency,
            summary=summary,
            consent=consent,
            consent_wording=CONSENT_WORDING if consent else None,
            status=NEW,
            due_at=moment + timedelta(hours=target),
            dedupe_key=dedupe,
        )
        session.add(row)
        session.flush()
        session.add(CaseEventRow(case_id=row.id, at=moment, status=NEW, by="family"))
        case = _case(row)
        session.add(_service_notice(routing, case, decision.service))
        return case


def get_case(engine: Engine, reference: str) -> Case:
    with session_scope(engine) as session:
        row = session.scalars(select(CaseRow).where(CaseRow.reference == reference)).first()
        if row is None:
            raise CaseNotFound(f"No case {reference}.")
        return _case(row)


def case_for_sender(engine: Engine, reference: str, sender: str) -> Case | None:
    """The case, only if ``sender`` raised it (nobody else may see its status)."""
    try:
        case = get_case(engine, reference)
    except CaseNotFound:
        return None
    return case if case.sender == sender else None


def change_status(
    engine: Engine,
    reference: str,
    status: str,
    by: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Move a case to ``status``, recording who and why; refuse illegal moves."""
    with session_scope(engine) as session:
        row = session.scalars(select(CaseRow).where(CaseRow.reference == reference)).first()
        if row is None:
            raise CaseNotFound(f"No case {reference}.")
        if status not in ALLOWED.get(str(row.status), set()):
            raise InvalidTransition(
                f"Case {reference} is '{row.status}' and cannot become '{status}'. "
                f"Allowed next: {', '.join(sorted(ALLOWED[str(row.status)])) or 'none'}."
            )
        row.status = status
        session.add(
            CaseEventRow(case_id=row.id, at=now or utcnow(), status=status, note=note, by=by)
        )
        return _case(row)


def history(engine: Engine, reference: str) -> list[CaseEventRow]:
    with session_scope(engine) as session:
        row = session.scalars(select(CaseRow).where(CaseRow.reference == reference)).first()
        if row is None:
            raise CaseNotFound(f"No case {reference}.")
        query = select(CaseEventRow).where(CaseEventRow.case_id == row.id)
        return list(session.scalars(query.order_by(CaseEventRow.id)))


def list_cases(engine: Engine, status: str | None = None) -> list[Case]:
    with session_scope(engine) as session:
        query = select(CaseRow).order_by(CaseRow.id)
        if status:
            query = query.where(CaseRow.status == status)
        return [_case(row) for row in session.scalars(query)]


def status_text(case: Case) -> str:
    """The case's status in easy-read words."""
    return f"Your case {case.reference} {STATUS_WORDS[case.status]}."


def staff_update(
    engine: Engine, reference: str, status: str, by: str, message: str | None = None
) -> Case:
    """Staff change a status (and may write to the family); the family is told."""
    case = change_status(engine, reference, status, by=by, note=message)
    text = status_text(case) + (f"\n{message}" if message else "")
    tell_family(engine, case, text, key=f"{status}:{len(history(engine, reference))}")
    return case


def reassign(
    engine: Engine,
    routing: Routing,
    reference: str,
    service_key: str,
    by: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Give a case to another service (its target time starts again), send it there as a
    new case is sent, and tell the family who has it now, all in one transaction."""
    moment = now or utcnow()
    if service_key not in routing.services:
        raise InvalidTransition(f"'{service_key}' is not a service that can receive cases.")
    entry = load_entry(engine, service_key)
    name = entry.name if entry else "the right team"
    with session_scope(engine) as session:
        row = session.scalars(select(CaseRow).where(CaseRow.reference == reference)).first()
        if row is None:
            raise CaseNotFound(f"No case {reference}.")
        if row.status == CLOSED:
            raise InvalidTransition(f"Case {reference} is closed and cannot be reassigned.")
        if row.service_key == service_key:
            raise InvalidTransition(f"Case {reference} is already with {service_key}.")
        previous = str(row.service_key)
        row.service_key = service_key
        row.due_at = moment + timedelta(hours=routing.route_for(service_key).target_hours)
        row.escalated_at = None
        text = f"reassigned from {previous} to {service_key}" + (f": {note}" if note else "")
        session.add(
            CaseEventRow(case_id=row.id, at=moment, status=str(row.status), note=text, by=by)
        )
        events = len(
            session.scalars(select(CaseEventRow.id).where(CaseEventRow.case_id == row.id)).all()
        )
        case = _case(row)
        session.add(_service_notice(routing, case, service_key, key=str(events)))
        told = _family_message(case, reassigned_text(case, name), key=f"reassigned:{events}")
        if told is not None:
            session.add(told)
    return case


def reassigned_text(case: Case, service_name: str) -> str:
    """Easy read, for the family: who has their case now."""
    return f"Your case {case.reference} is now with {service_name}. They will contact you."


def escalate_overdue(engine: Engine, routing: Routing, now: datetime | None = None) -> list[Case]:
    """Send cases not acknowledged in time to the fallback owner, and tell the family."""
    moment = now or utcnow()
    with session_scope(engine) as session:
        rows = session.scalars(
            select(CaseRow).where(CaseRow.status.in_((NEW, SENT)), CaseRow.escalated_at.is_(None))
        ).all()
        overdue = [_case(r) for r in rows if _aware(r.due_at) <= moment]
        for case in overdue:
            session.execute(
                update(CaseRow)
                .where(CaseRow.reference == case.reference)
                .values(escalated_at=moment)
            )
            row_id = session.scalars(
                select(CaseRow.id).where(CaseRow.reference == case.reference)
            ).one()
            session.add(
                CaseEventRow(
                    case_id=row_id,
                    at=moment,
                    status=case.status,
                    note=f"escalated to {routing.fallback_owner}: not acknowledged in time",
                    by="assistant",
                )
            )
    for case in overdue:
        _notify_service(engine, routing, case, routing.fallback_owner)
        tell_family(
            engine,
            case,
            f"Your case {case.reference} has not been picked up yet. "
            "We have passed it to the Local Offer team to chase.",
            key="escalated",
        )
    return overdue


def references_of(session: Session, ids: tuple[str, ...]) -> tuple[str, ...]:
    """The references of the cases raised by any of ``ids``."""
    query = select(CaseRow.reference).where(CaseRow.sender.in_(ids))
    return tuple(str(r) for r in session.scalars(query) if r)


def _anonymise(session: Session, where: ColumnElement[bool], note: str) -> int:
    rows = list(session.scalars(select(CaseRow).where(where)))
    for row in rows:
        row.sender, row.consent, row.summary = ERASED, False, note
    if rows:
        session.execute(
            update(CaseEventRow)
            .where(
                CaseEventRow.case_id.in_([r.id for r in rows]),
                CaseEventRow.by != "assistant",
            )
            .values(note=None)
            .execution_options(synchronize_session=False)
        )
    return len(rows)


def erase_cases(session: Session, target: ErasureTarget) -> int:
    """The person's cases stay for statistics (service, status, dates) without their id,
    their words or staff's messages to them."""
    return _anonymise(session, CaseRow.sender.in_(target.ids), CASE_TEXT_ERASED)


def expire_cases(session: Session, run: RetentionRun) -> int:
    """Closed cases older than the cutoff lose the family's words and id the same way."""
    return _anonymise(
        session,
        (CaseRow.status == CLOSED)
        & (CaseRow.created_at < run.cutoff)
        & (CaseRow.summary != CASE_TEXT_EXPIRED)
        & (CaseRow.summary != CASE_TEXT_ERASED),
        CASE_TEXT_EXPIRED,
    )
