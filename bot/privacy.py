"""Privacy: pseudonymous identifiers, and "delete my data" driven by the inventory.

What is kept, and what erasure and retention do to it, is listed once in
:mod:`bot.inventory`; :func:`erase_person` and the retention job (:mod:`bot.retention`)
both run the rules listed there.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import checkpoint, session_scope

log = logging.getLogger(__name__)
ERASED = "erased"
TWILIO_DELETE = "twilio-delete"  # the outbox channel that deletes a resource at Twilio


def pseudonymise(key: str, channel: str, raw_id: str) -> str:
    """A stable keyed hash of a phone number or chat id, safe to store and log."""
    digest = hmac.new(key.encode(), f"{channel}:{raw_id}".encode(), hashlib.sha256)
    return f"{channel}-{digest.hexdigest()[:24]}"


@dataclass
class ErasureTarget:
    """Whose records to erase: the conversation id, and other ids of the same person that
    only exist because of it (the SMS contact a phone call asked us to text)."""

    conversation_id: str
    related: tuple[str, ...] = ()
    audio_dir: Path | None = None
    references: tuple[str, ...] = ()  # the person's case references (found before any change)
    files: list[Path] = field(default_factory=list)  # removed once the database has committed

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.conversation_id, *self.related)


@dataclass
class RetentionRun:
    """One run of the retention job: records older than ``cutoff`` lose what is personal."""

    cutoff: datetime
    audio_dir: Path | None = None
    keep_texts: frozenset[str] = frozenset()  # fixed texts whose audio is the same for all
    files: list[Path] = field(default_factory=list)
    audit_cutoff: datetime | None = None  # the staff audit log's own, longer period


def queue_twilio_deletions(session: Session, sids: Iterable[str]) -> int:
    """Queue the deletion at Twilio of recordings (RE...) and messages (SM..., MM...).

    Each is an essential outbox message, so it is retried until Twilio confirms and is
    never silently dropped. Returns how many were queued.
    """
    from bot.notify.outbox import ERASURE, OutboxRow

    queued = 0
    for sid in dict.fromkeys(sids):
        if not sid or sid[:2] not in ("RE", "SM", "MM"):
            continue
        key = f"twilio-delete:{sid}"
        if session.scalars(select(OutboxRow.id).where(OutboxRow.dedupe_key == key)).first():
            continue
        session.add(
            OutboxRow(
                channel=TWILIO_DELETE, recipient=sid, body="delete", dedupe_key=key, kind=ERASURE
            )
        )
        queued += 1
    return queued


def related_ids(engine: Engine, conversation_id: str, pseudonym_key: str) -> tuple[str, ...]:
    """Other ids that belong to this conversation's person and exist only through it.

    A phone call (``voice-...``) that asked for an answer by text (key 5) left an SMS
    contact (``sms-...``) for the caller's number: its address pseudonymises to the call's
    id under the ``voice`` channel.
    """
    if not conversation_id.startswith("voice-"):
        return ()
    from bot.contacts import ContactRow

    with session_scope(engine) as session:
        rows = session.execute(
            select(ContactRow.sender, ContactRow.address).where(ContactRow.channel == "sms")
        ).all()
    return tuple(
        str(sender)
        for sender, address in rows
        if pseudonymise(pseudonym_key, "voice", str(address)) == conversation_id
    )


def erase_person(
    engine: Engine,
    conversation_id: str,
    pseudonym_key: str | None = None,
    audio_dir: Path | None = None,
) -> dict[str, int]:
    """Remove or anonymise every personal record of ``conversation_id``, as the inventory
    says; return counts by kind (what the person is told). The chat history itself is
    erased by the tracker store (``components/tracker_store.py``)."""
    from bot.config import load_settings
    from bot.inventory import INVENTORY

    if pseudonym_key is None or audio_dir is None:
        settings = load_settings()
        pseudonym_key = pseudonym_key or settings.pseudonym_key
        audio_dir = audio_dir or settings.audio_dir
    target = ErasureTarget(
        conversation_id, related_ids(engine, conversation_id, pseudonym_key), audio_dir
    )
    counts: dict[str, int] = {}
    with session_scope(engine) as session:
        from bot.routing.cases import references_of

        target.references = references_of(session, target.ids)
        for table in INVENTORY:
            if table.erase is not None:
                counts[table.told] = counts.get(table.told, 0) + table.erase(session, target)
    checkpoint(engine)  # SQLite: not left in the write-ahead log either
    for path in target.files:
        path.unlink(missing_ok=True)
    log.info("erased the records of a conversation on request: %s", counts)
    return counts
