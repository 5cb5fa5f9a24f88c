"""Call-back requests: a case routed like any other, plus the family's consent to be rung.

The number itself stays in ``contacts`` (the one place raw numbers live); a
``call_backs`` row records that the person agreed, when, and in which words. Staff see
the number with ``python -m bot cases show REF``; emails to services never carry it.
A phone message (press 7) is a case too, carrying the recording's link.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.contacts import contact_address
from bot.db import Base, session_scope, utcnow
from bot.notify.outbox import enqueue
from bot.privacy import ErasureTarget, RetentionRun
from bot.routing.cases import CLOSED, CONSENT_WORDING, Case, CaseRow, create_case, get_case
from bot.routing.rules import Decision, Routing

CALL_BACK = "call_back"
PHONE_MESSAGE = "phone_message"
CALL_BACK_WORDING = "Shall the team ring you back on this number? We keep it only for that."


class CallBackRow(Base):
    """A family agreed to be rung back about a case (their number is in ``contacts``)."""

    __tablename__ = "call_backs"
    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    sender = Column(String(128), nullable=False)
    channel = Column(String(32), nullable=False)
    consent_wording = Column(Text, nullable=False)
    requested_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


def _tell_service(engine: Engine, routing: Routing, case: Case) -> None:
    route = routing.route_for(case.service_key)
    enqueue(
        engine,
        route.notify,
        route.address or case.service_key,
        f"Case {case.reference}: the family asked for a call back.\n"
        f"Their number is kept with the case: python -m bot cases show {case.reference}",
        dedupe_key=f"call-back:{case.reference}",
    )


def _record_consent(engine: Engine, reference: str, sender: str, channel: str) -> bool:
    """Keep the consent (once) and link the case to the person; True if it is new."""
    with session_scope(engine) as session:
        row = session.scalars(select(CaseRow).where(CaseRow.reference == reference)).one()
        if session.scalars(select(CallBackRow).where(CallBackRow.case_id == row.id)).first():
            return False
        row.sender, row.consent, row.consent_wording = sender, True, CONSENT_WORDING
        session.add(
            CallBackRow(
                case_id=row.id, sender=sender, channel=channel, consent_wording=CALL_BACK_WORDING
            )
        )
        return True


def request_call_back(
    engine: Engine,
    routing: Routing,
    decision: Decision,
    summary: str,
    channel: str,
    sender: str,
    turn_id: str,
) -> Case:
    """Create the case (once per turn) and record that the person wants to be rung.

    ``sender`` must have a number in ``contacts`` (SMS and phone callers do)."""
    case = create_case(
        engine, routing, decision, summary, channel=channel, sender=sender, consent=True,
        turn_id=turn_id,
    )  # fmt: skip
    if _record_consent(engine, case.reference, sender, channel):
        _tell_service(engine, routing, case)
    return get_case(engine, case.reference)


def phone_message_service(routing: Routing, shown_keys: list[str] | None) -> str:
    """Who a phone message goes to: the service the caller just heard about, if it takes
    cases, else the fallback owner (the Local Offer team), as any case would."""
    first = next(iter(shown_keys or []), None)
    return first if first in routing.services else routing.fallback_owner


def phone_message(
    engine: Engine, routing: Routing, service: str, recording_url: str, recording_sid: str,
    channel: str,
) -> Case:  # fmt: skip
    """A spoken message left on the phone line, as a case for ``service`` (once per
    recording). Nobody is linked to it until the caller agrees to a call back."""
    summary = (
        f"A spoken message was left on the phone line. Listen to it here: {recording_url}\n"
        "The caller did not ask for a call back (unless a later note says so)."
    )
    decision = Decision(service, PHONE_MESSAGE, "normal", "phone message")
    return create_case(
        engine, routing, decision, summary, channel=channel, sender=f"recording:{recording_sid}",
        consent=False, turn_id=recording_sid,
    )  # fmt: skip


def add_call_back(
    engine: Engine, routing: Routing, reference: str, sender: str, channel: str
) -> Case:
    """The person agreed to be rung back about an existing case: keep that and tell the team."""
    if _record_consent(engine, reference, sender, channel):
        _tell_service(engine, routing, get_case(engine, reference))
    return get_case(engine, reference)


def call_back_number(engine: Engine, reference: str) -> str | None:
    """The number to ring for a case, when the family asked for a call back."""
    with session_scope(engine) as session:
        row = session.scalars(
            select(CallBackRow)
            .join(CaseRow, CaseRow.id == CallBackRow.case_id)
            .where(CaseRow.reference == reference)
        ).first()
        sender = str(row.sender) if row is not None else None
    return contact_address(engine, sender) if sender else None


def wants_call_back(engine: Engine, reference: str) -> bool:
    with session_scope(engine) as session:
        return (
            session.scalars(
                select(CallBackRow.id)
                .join(CaseRow, CaseRow.id == CallBackRow.case_id)
                .where(CaseRow.reference == reference)
            ).first()
            is not None
        )


def erase_call_backs(session: Session, target: ErasureTarget) -> int:
    """Delete "delete my data": the person's call-back consents go with them."""
    result = session.execute(delete(CallBackRow).where(CallBackRow.sender.in_(target.ids)))
    return int(result.rowcount or 0)


def expire_call_backs(session: Session, run: RetentionRun) -> int:
    """Past the cutoff, the consent of a closed case's call back is deleted."""
    closed = select(CaseRow.id).where(CaseRow.status == CLOSED)
    result = session.execute(
        delete(CallBackRow)
        .where(CallBackRow.requested_at < run.cutoff, CallBackRow.case_id.in_(closed))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
