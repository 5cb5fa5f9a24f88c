"""Privacy: pseudonymous identifiers and erasure of a person's records ("delete my data")."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.safety_log import SafetyFlagRow

ERASED = "erased"

# Each eraser removes (or anonymises) one kind of record for a conversation id and
# returns how many rows it touched. Modules that keep personal records register here.
Eraser = Callable[[Session, str], int]
ERASERS: dict[str, Eraser] = {}


def pseudonymise(key: str, channel: str, raw_id: str) -> str:
    """A stable keyed hash of a phone number or chat id, safe to store and log."""
    digest = hmac.new(key.encode(), f"{channel}:{raw_id}".encode(), hashlib.sha256)
    return f"{channel}-{digest.hexdigest()[:24]}"


def register_eraser(name: str) -> Callable[[Eraser], Eraser]:
    def decorator(func: Eraser) -> Eraser:
        ERASERS[name] = func
        return func

    return decorator


@register_eraser("safety reviews (kept without your identity)")
def _anonymise_safety_flags(session: Session, conversation_id: str) -> int:
    result = session.execute(
        update(SafetyFlagRow)
        .where(SafetyFlagRow.conversation_id == conversation_id)
        .values(conversation_id=ERASED)
    )
    return int(result.rowcount or 0)


def erase_person(engine: Engine, conversation_id: str) -> dict[str, int]:
    """Remove every personal record of ``conversation_id``; return counts by kind."""
    import bot.contacts  # noqa: F401  (each registers its eraser)
    import bot.feedback.store  # noqa: F401
    import bot.routing.cases  # noqa: F401

    with session_scope(engine) as session:
        return {name: eraser(session, conversation_id) for name, eraser in ERASERS.items()}
