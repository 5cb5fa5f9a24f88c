"""The safeguarding step every channel shares, independent of the dialogue servers.

``crisis_fallback`` is called by each channel for people who opted out, and again when a
turn fails, times out or comes back without an emergency reply: a message that suggests
someone is at risk then gets the emergency reply from the channel itself, and a flag for
staff review is still recorded. ``record_flag`` is the one way a flag is made (the crisis
action uses it too): a row with the category and no message text, and an email through the
outbox with the category and a link to the staff console only.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.directory.models import EntryRow
from bot.directory.records import Entry
from bot.directory.topics import FRONT_DOOR_KEY
from bot.notify.outbox import SAFEGUARDING, enqueue
from bot.safety import SafetyCheck, check_message, emergency_text
from bot.safety_log import flag_conversation

log = logging.getLogger(__name__)

LADO_KEY = "lado"
LOCAL_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class LocalContacts:
    """The council's safeguarding front door and LADO, from the directory (or None)."""

    front_door: Entry | None = None
    lado: Entry | None = None


_cache_lock = threading.Lock()
_cache: dict[str, tuple[float, LocalContacts]] = {}


def _entry(row: EntryRow | None) -> Entry | None:
    if row is None:
        return None
    return Entry(
        key=row.key, name=row.name, kind=row.kind, summary=row.summary, needs=(),
        phone=row.phone, email=row.email, web=row.web, hours=row.hours,
        how_to_refer=row.how_to_refer, sample_data=bool(row.sample_data),
    )  # fmt: skip


def local_contacts(engine: Engine) -> LocalContacts:
    """The front door and the LADO: two rows read by key (cached for a minute), never the
    search catalogue; empty when the database cannot be read."""
    key = str(engine.url)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
        if cached and now - cached[0] < LOCAL_TTL_SECONDS:
            return cached[1]
    try:
        with session_scope(engine) as session:
            rows = {
                row.key: row
                for row in session.scalars(
                    select(EntryRow).where(EntryRow.key.in_([FRONT_DOOR_KEY, LADO_KEY]))
                )
            }
            found = LocalContacts(_entry(rows.get(FRONT_DOOR_KEY)), _entry(rows.get(LADO_KEY)))
    except Exception:
        log.exception("safeguard: the directory is unavailable; national numbers only")
        return LocalContacts()
    with _cache_lock:
        _cache[key] = (now, found)
    return found


def reply_for(check: SafetyCheck, contacts: LocalContacts) -> str:
    """The emergency reply for a detector verdict."""
    return emergency_text(
        contacts.front_door, check.category, lado=contacts.lado, also=check.categories[1:]
    )


def flag_email(console_url: str, flag_id: int, category: str) -> str:
    """The safeguarding email: the category and a link to the flag in the staff console.
    No message text and no conversation id: the lead logs in to read the conversation."""
    return (
        "A conversation needs a safeguarding review now.\n"
        f"Category: {category}.\n"
        f"Log in to the staff console to read it: {console_url}/flags/{flag_id}"
    )


def record_flag(
    engine: Engine,
    conversation_id: str,
    channel: str,
    check: SafetyCheck,
    safeguarding_contact: str = "",
    console_url: str | None = None,
) -> int | None:
    """Flag the conversation for staff review (category, no message text) and, if a
    safeguarding contact is set, queue one email with the category and a link to the flag
    in the staff console. Returns the flag's id, or None when the database is down (logged)."""
    reasons = check.reasons or ("model",)
    try:
        flag_id = flag_conversation(engine, conversation_id, channel, reasons, check.category)
        if safeguarding_contact:
            if console_url is None:
                from bot.config import load_settings

                console_url = load_settings().staff_public_url
            day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
            category = check.category or "unknown"
            enqueue(
                engine,
                "email",
                safeguarding_contact,
                flag_email(console_url, flag_id, category),
                # one email per conversation, category and day, however many messages
                dedupe_key=f"safety-flag:{conversation_id}:{category}:{day}",
                kind=SAFEGUARDING,
                person=conversation_id,
            )
        return flag_id
    except Exception:
        log.exception("safeguard: could not record or send a safety flag for review")
        return None


def crisis_fallback(
    engine: Engine | None,
    sender: str,
    channel: str,
    text: str,
    *,
    front_door: Entry | None = None,
    safeguarding_contact: str = "",
) -> str | None:
    """If ``text`` is a crisis: record a flag and return the emergency reply; else None.

    Channels call this for opted-out senders and when a turn fails, times out or comes back
    without an emergency reply. It needs neither Rasa nor the action server. With no
    ``engine`` (the database was down when the process began) the reply carries the
    national numbers and the log keeps the category, since no flag can be made."""
    check = check_message(text)
    if not check.crisis:
        return None
    if engine is None:
        log.warning("safeguard: %s crisis on %s answered by the channel; no flag could be "
                    "made (no database)", check.category, channel)  # fmt: skip
        return reply_for(check, LocalContacts(front_door))
    log.warning("safeguard: %s crisis on %s answered by the channel", check.category, channel)
    contacts = local_contacts(engine)
    if front_door is not None:
        contacts = LocalContacts(front_door, contacts.lado)
    record_flag(engine, sender, channel, check, safeguarding_contact)
    return reply_for(check, contacts)
