"""What "delete my data" and the retention job do to the outbox (see bot/inventory.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.notify.outbox import DEAD, PENDING, SENDING, SENT, SERVICE, SUPPRESSED, OutboxRow

if TYPE_CHECKING:
    from bot.privacy import ErasureTarget, RetentionRun

ERASED = "erased"
BODY_ERASED = "(erased at the person's request)"
TWILIO_MESSAGE_CHANNELS = ("sms", "whatsapp")


def service_note(reference: str | None) -> str:
    """What a service is sent (or what our copy says) once the family's words are gone."""
    return (
        f"Case {reference or '(no reference)'}: the family asked us to delete their details, "
        "so the text of this case was removed. The case itself is kept."
    )


def erase_outbox(session: Session, target: ErasureTarget) -> int:
    """Messages to the person lose their address and text (unsent ones are not sent, and
    sent texts are deleted at Twilio); messages about them to staff (a service's case,
    a safeguarding alert) lose their conversation id and the family's words."""
    from bot.privacy import queue_twilio_deletions

    ids, references = target.ids, target.references
    to_them = list(session.scalars(select(OutboxRow).where(OutboxRow.recipient.in_(ids))))
    queue_twilio_deletions(
        session,
        [
            str(r.provider_id)
            for r in to_them
            if r.channel in TWILIO_MESSAGE_CHANNELS and r.provider_id
        ],
    )
    for row in to_them:
        if row.status in (PENDING, SENDING):
            row.status, row.claim_token = SUPPRESSED, None
        row.recipient, row.person, row.body = ERASED, ERASED, BODY_ERASED
        row.last_error = "erased on request" if row.status == SUPPRESSED else None
        row.buttons = None
    about_them = or_(
        OutboxRow.person.in_(ids),
        *(OutboxRow.body.contains(i, autoescape=True) for i in ids),
        *([OutboxRow.case_reference.in_(references)] if references else []),
    )
    to_staff = list(
        session.scalars(select(OutboxRow).where(about_them, OutboxRow.recipient != ERASED))
    )
    for row in to_staff:
        if row.kind == SERVICE:
            row.body = service_note(row.case_reference)
        else:
            body = str(row.body)
            for i in ids:
                body = body.replace(i, ERASED)
            row.body = body
        row.person = ERASED
    return len(to_them) + len(to_staff)


def expire_outbox(session: Session, run: RetentionRun) -> int:
    """Finished messages older than the cutoff are deleted (and SMS deleted at Twilio);
    messages still being tried are kept until they finish."""
    from bot.privacy import queue_twilio_deletions

    finished = (OutboxRow.created_at < run.cutoff) & OutboxRow.status.in_((SENT, DEAD, SUPPRESSED))
    sids = session.scalars(
        select(OutboxRow.provider_id).where(
            finished, OutboxRow.channel.in_(TWILIO_MESSAGE_CHANNELS)
        )
    ).all()
    queue_twilio_deletions(session, [str(s) for s in sids if s])
    result = session.execute(
        delete(OutboxRow).where(finished).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
