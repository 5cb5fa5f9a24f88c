"""The inventory of personal data: every table and column we keep, and for each personal
column what "delete my data" does to it and what happens after ``RETENTION_DAYS``.

:func:`bot.privacy.erase_person` runs each table's ``erase`` rule and the retention job
(:mod:`bot.retention`) each table's ``expire`` rule, in this order. A test walks the
database's tables (the models and the migrated schema) and fails for any column that is
not listed here as personal or not; another checks PRIVACY.md against :func:`markdown`
(``python -m bot privacy inventory --write`` regenerates that section).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.contacts import erase_contacts, expire_contacts, expire_inbound
from bot.feedback.store import erase_feedback, expire_feedback
from bot.notify.personal import erase_outbox, expire_outbox
from bot.privacy import ErasureTarget, RetentionRun
from bot.routing.callbacks import erase_call_backs, expire_call_backs
from bot.routing.cases import erase_cases, expire_cases
from bot.safety_log import erase_flags, expire_flags
from bot.speech.cache import erase_audio, expire_audio
from bot.staff.audit import expire_audit

APP = "application database"
TRACKER = "Rasa tracker store"


@dataclass(frozen=True)
class Personal:
    """A column holding personal data: what it holds and what happens to it."""

    holds: str
    erasure: str  # on "delete my data"
    retention: str  # after RETENTION_DAYS


@dataclass(frozen=True)
class Table:
    name: str
    what: str
    personal: Mapping[str, Personal]
    other: frozenset[str]  # columns that hold nothing personal
    told: str = ""  # what the person is told erasure reached
    erase: Callable[[Session, ErasureTarget], int] | None = None
    expire: Callable[[Session, RetentionRun], int] | None = None
    store: str = APP
    done_by: str = ""  # for rules run elsewhere (the tracker store)
    erased_with: str = ""  # another table whose erase rule covers this one
    expired_with: str = ""  # another table whose expire rule covers this one


def _others(*names: str) -> frozenset[str]:
    return frozenset(names)


ROW_DELETED = "deleted"
CASE_RETENTION = "removed RETENTION_DAYS after the case was raised, once it is closed"
KEPT_FOR_STOP = "kept, so we never message you after STOP (only the pseudonym)"
AUDIT_KEPT = "deleted after AUDIT_RETENTION_DAYS (2 years unless set), not RETENTION_DAYS"

CONTACT_ROW = Personal(
    "part of your contact record", ROW_DELETED,
    "deleted when not used for RETENTION_DAYS, unless an open case needs it",
)  # fmt: skip

INVENTORY: tuple[Table, ...] = (
    Table(
        "contacts",
        "the one place a phone number or chat id is kept, to reply",
        {
            "sender": Personal("your pseudonym (keyed hash)", ROW_DELETED, CONTACT_ROW.retention),
            "address": Personal(
                "your phone number, WhatsApp number or Telegram chat id; after a call, "
                "the number you asked us to text",
                ROW_DELETED,
                CONTACT_ROW.retention,
            ),
            "created_at": CONTACT_ROW,
            "last_seen_at": CONTACT_ROW,
            "last_inbound_at": CONTACT_ROW,
        },
        _others("channel", "last_menu"),
        told="your phone number or chat id",
        erase=erase_contacts,
        expire=expire_contacts,
    ),
    Table(
        "inbound_messages",
        "each message as it arrived (for de-duplication and flood limits)",
        {
            "sender": Personal("your pseudonym", ROW_DELETED, "deleted after RETENTION_DAYS"),
            "text": Personal("what you wrote", ROW_DELETED, "deleted after RETENTION_DAYS"),
            "external_id": Personal(
                "the provider's id of your message (Twilio: also deleted there)",
                "deleted, and the text deleted at Twilio",
                "deleted, and the text deleted at Twilio",
            ),
        },
        _others("id", "channel", "received_at", "status", "kind", "attempts", "claimed_at"),
        expire=expire_inbound,
        erased_with="contacts",
    ),
    Table(
        "opt_outs",
        "people who said STOP or blocked the bot",
        {"sender": Personal("your pseudonym", KEPT_FOR_STOP, KEPT_FOR_STOP)},
        _others("channel", "opted_out_at", "reason"),
    ),
    Table(
        "outbox",
        "every message we send, until it is delivered",
        {
            "recipient": Personal(
                "your pseudonym, or a service's address",
                "replaced by 'erased'; an unsent message to you is not sent",
                "finished messages deleted after RETENTION_DAYS",
            ),
            "body": Personal(
                "the text of a message to you, or a case or safety alert about you",
                "to you: replaced by a note; to staff: your words and id removed",
                "finished messages deleted after RETENTION_DAYS",
            ),
            "person": Personal(
                "whose conversation the message is about",
                "replaced by 'erased'",
                "finished messages deleted after RETENTION_DAYS",
            ),
            "provider_id": Personal(
                "the provider's id for the message (Twilio: its copy is deleted too)",
                "your texts are deleted at Twilio",
                "deleted, and the text deleted at Twilio",
            ),
            "last_error": Personal(
                "a provider's error, which may quote your number",
                "cleared",
                "finished messages deleted after RETENTION_DAYS",
            ),
        },
        _others(
            "id",
            "channel",
            "dedupe_key",
            "status",
            "attempts",
            "next_attempt_at",
            "delivery_status",
            "created_at",
            "sent_at",
            "kind",
            "case_reference",
            "buttons",
            "claim_token",
            "claimed_at",
            "alerted_at",
        ),  # fmt: skip
        told="messages to you or about you",
        erase=erase_outbox,
        expire=expire_outbox,
    ),
    Table(
        "feedback",
        "feedback about services",
        {
            "text": Personal(
                "what you said (a phone message: a link to the recording at Twilio)",
                "deleted if you agreed to a reply (recordings deleted at Twilio); "
                "anonymous feedback cannot be linked to you and stays",
                "kept as anonymous feedback; voice recordings deleted at Twilio",
            ),
            "sender": Personal(
                "your pseudonym, only if you agreed to a reply",
                ROW_DELETED,
                "removed (the feedback becomes anonymous)",
            ),
            "conversation_id": Personal(
                "your conversation id, only if you agreed to a reply",
                ROW_DELETED,
                "removed (the feedback becomes anonymous)",
            ),
        },
        _others(
            "id",
            "dedupe_key",
            "channel",
            "created_at",
            "service_key",
            "rating",
            "themes",
            "consent",
            "consent_wording",
            "consent_at",
            "kind",
        ),  # fmt: skip
        told="feedback you asked us to reply to",
        erase=erase_feedback,
        expire=expire_feedback,
    ),
    Table(
        "you_said_we_did",
        "what services changed, written by staff",
        {},
        _others("id", "created_at", "service_key", "theme", "you_said", "we_did"),
    ),
    Table(
        "you_said_we_did_notices",
        "who was told about a change (deleted with the feedback)",
        {},
        _others("item_id", "feedback_id", "sent_at"),
    ),
    Table(
        "call_backs",
        "your yes to a call back (the number itself is in contacts)",
        {
            "sender": Personal(
                "your pseudonym, linking the call back to your number",
                ROW_DELETED,
                "deleted RETENTION_DAYS after the request, once its case is closed",
            ),
            "consent_wording": Personal(
                "the exact words you agreed to",
                ROW_DELETED,
                "deleted with the request",
            ),
            "requested_at": Personal(
                "when you asked",
                ROW_DELETED,
                "deleted with the request",
            ),
        },
        _others("id", "case_id", "channel"),
        told="call-back requests",
        erase=erase_call_backs,
        expire=expire_call_backs,
    ),
    Table(
        "cases",
        "issues you asked us to send to a service",
        {
            "sender": Personal(
                "your pseudonym, to send you updates",
                "replaced by 'erased'",
                CASE_RETENTION,
            ),
            "summary": Personal(
                "what you told us about the problem",
                "replaced by a note; the service, status and dates stay for statistics",
                CASE_RETENTION,
            ),
        },
        _others(
            "id",
            "reference",
            "created_at",
            "channel",
            "service_key",
            "category",
            "urgency",
            "consent",
            "consent_wording",
            "status",
            "due_at",
            "escalated_at",
            "dedupe_key",
        ),  # fmt: skip
        told="cases you raised (kept without your identity)",
        erase=erase_cases,
        expire=expire_cases,
    ),
    Table(
        "case_events",
        "the history of each case",
        {
            "note": Personal(
                "a staff message to you about your case",
                "removed",
                CASE_RETENTION,
            ),
            "by": Personal(
                "the name of the staff member who made the change (staff data)",
                "kept: it is not your data",
                "kept with the case's history",
            ),
        },
        _others("id", "case_id", "at", "status"),
        erased_with="cases",
        expired_with="cases",
    ),
    Table(
        "safety_flags",
        "conversations flagged for a safeguarding review (no message text)",
        {
            "conversation_id": Personal(
                "your conversation id",
                "replaced by 'erased' (the flag stays for statistics)",
                "replaced by 'erased'",
            ),
            "review_note": Personal(
                "the safeguarding lead's note on their review",
                "kept as a safeguarding record the council must keep, no longer linked to you",
                "kept with the flag, no longer linked to you",
            ),
        },
        _others("id", "channel", "reasons", "category", "created_at", "reviewed_at", "reviewed_by"),
        told="safety reviews (kept without your identity)",
        erase=erase_flags,
        expire=expire_flags,
    ),
    Table(
        "speech_audio",
        "audio made of our replies (the files are in AUDIO_DIR)",
        {
            "text": Personal(
                "the words of a reply, which may name your case or a staff message to you",
                "audio naming your cases deleted, with its file",
                "reply audio deleted; the audio of fixed texts (the same for all) stays",
            ),
        },
        _others(
            "key",
            "engine",
            "language",
            "voice",
            "filename",
            "content_type",
            "size",
            "created_at",
        ),  # fmt: skip
        told="audio of replies about your cases",
        erase=erase_audio,
        expire=expire_audio,
    ),
    Table("needs", "the directory's need taxonomy", {}, _others("key", "label", "synonyms")),
    Table(
        "entries",
        "the directory: services' published contact details, not people's",
        {},
        _others(
            "id",
            "key",
            "name",
            "kind",
            "summary",
            "age_min",
            "age_max",
            "area",
            "phone",
            "email",
            "web",
            "hours",
            "how_to_refer",
            "keywords",
            "sample_data",
            "source",
            "updated_at",
            "last_checked",
            "checked_by",
            "phone_dial",
            "more_phones",
            "description",
            "organisation",
            "address",
            "eligibility",
            "cost",
            "languages",
            "accessibility",
            "taxonomy",
            "source_id",
            "search_terms",
            "content_hash",
            "version",
        ),  # fmt: skip
    ),
    Table(
        "directory_state",
        "the directory's version, so servers know when to rebuild their search index",
        {},
        _others("id", "version", "changed_at"),
    ),
    Table(
        "entry_needs", "which needs each entry helps", {}, _others("entry_id", "need_key", "rank")
    ),
    Table(
        "staff_accounts",
        "staff console accounts (staff data, not families')",
        {
            "email": Personal(
                "a staff member's work email (staff data)",
                "kept: it is not your data",
                "kept while the account exists; an admin switches accounts off",
            ),
        },
        _others(
            "id",
            "password_hash",
            "role",
            "service_key",
            "active",
            "failed_attempts",
            "locked_until",
            "session_version",
            "created_at",
            "last_login_at",
            "must_change_password",
            "password_changed_at",
        ),  # fmt: skip
    ),
    Table(
        "staff_audit",
        "what staff did in the console (case references and flag numbers, never message text)",
        {
            "actor": Personal(
                "the staff member who acted, or the email typed at a failed login (staff data)",
                "kept: it is not your data",
                AUDIT_KEPT,
            ),
            "target": Personal(
                "what they acted on: a case reference, a flag number, a staff email",
                "kept: a case reference is no longer linked to you once your details are erased",
                AUDIT_KEPT,
            ),
        },
        _others("id", "at", "action", "detail"),
        expire=expire_audit,
    ),
    Table(
        "directory_changes",
        "the history of edits to the directory (services' details, not people's)",
        {
            "by": Personal(
                "the staff member who edited an entry (staff data)",
                "kept: it is not your data",
                "kept with the directory's history",
            ),
        },
        _others("id", "at", "entry_key", "action", "before", "after"),
    ),
    Table("alembic_version", "the schema's version", {}, _others("version_num")),
    Table(
        "events",
        "the conversation: your messages and our replies, slots such as your child's age",
        {
            "sender_id": Personal(
                "your pseudonym (or the web chat's id)",
                "every event deleted",
                "events older than RETENTION_DAYS deleted",
            ),
            "data": Personal(
                "what you wrote and what we replied",
                "every event deleted",
                "events older than RETENTION_DAYS deleted",
            ),
        },
        _others("id", "type_name", "timestamp", "intent_name", "action_name"),
        store=TRACKER,
        done_by="components/tracker_store.py (erasure) and bot/retention.py (retention)",
    ),
)


@dataclass(frozen=True)
class Elsewhere:
    what: str
    erasure: str
    retention: str


ELSEWHERE: tuple[Elsewhere, ...] = (
    Elsewhere(
        "Twilio: voice recordings, and its copy of texts we sent and received",
        "deleted through Twilio's API (queued in the outbox, retried until done)",
        "deleted through Twilio's API after RETENTION_DAYS",
    ),
    Elsewhere(
        "Staff console sessions: a signed cookie in the staff member's browser (their account "
        "number, a form token and the last notice shown; no table, nothing about families)",
        "not your data",
        "ends after 8 hours, at log out, or when their password changes or the account is "
        "switched off",
    ),
    Elsewhere(
        "Audio files in AUDIO_DIR",
        "files of replies naming your cases deleted",
        "reply audio deleted after RETENTION_DAYS; fixed texts kept",
    ),
)


def by_name() -> dict[str, Table]:
    return {table.name: table for table in INVENTORY}


def personal_columns() -> list[tuple[Table, str, Personal]]:
    return [(t, name, p) for t in INVENTORY for name, p in t.personal.items()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The generated section of PRIVACY.md: every personal column and its rules."""
    lines = [
        "| where | what it holds | when you ask us to delete your data | after `RETENTION_DAYS` |",
        "| --- | --- | --- | --- |",
    ]
    for table, column, rule in personal_columns():
        store = "" if table.store == APP else f" in the {table.store}"
        lines.append(
            f"| `{table.name}.{column}`{store} | {_cell(rule.holds)} | "
            f"{_cell(rule.erasure)} | {_cell(rule.retention)} |"
        )
    for item in ELSEWHERE:
        lines.append(f"| {_cell(item.what)} | | {_cell(item.erasure)} | {_cell(item.retention)} |")
    return "\n".join(lines) + "\n"


MARK_START = "<!-- inventory:start (generated by `python -m bot privacy inventory --write`) -->"
MARK_END = "<!-- inventory:end -->"


def replace_section(document: str, section: str) -> str:
    """``document`` with the text between the inventory markers replaced by ``section``."""
    start = document.index(MARK_START) + len(MARK_START)
    end = document.index(MARK_END)
    return document[:start] + "\n" + section + document[end:]


def section_of(document: str) -> str:
    start = document.index(MARK_START) + len(MARK_START)
    return document[start : document.index(MARK_END)].lstrip("\n")
