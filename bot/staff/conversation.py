"""Read one conversation from Rasa's SQL tracker store, for the safeguarding lead only.

Only the user's and the assistant's words, in order. This reads the ``events`` table that
Rasa's ``SQLTrackerStore`` writes (``TRACKER_DATABASE_URL``), with plain SQL: ``bot/``
does not import Rasa.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    at: datetime
    who: str  # "family" or "assistant"
    text: str


def conversation(tracker: Engine, sender_id: str, limit: int = 200) -> list[Turn] | None:
    """The last ``limit`` messages of a conversation; None if the tracker store is down."""
    query = text(
        "SELECT type_name, timestamp, data FROM events "
        "WHERE sender_id = :sender AND type_name IN ('user', 'bot') ORDER BY id"
    )
    try:
        with tracker.connect() as connection:
            rows = connection.execute(query, {"sender": sender_id}).all()
    except SQLAlchemyError:
        log.exception("could not read the conversation from the tracker store")
        return None
    turns = []
    for type_name, timestamp, data in rows[-limit:]:
        try:
            event = json.loads(data or "{}")
        except ValueError:
            event = {}
        words = str(event.get("text") or "")
        if not words:
            continue
        at = datetime.fromtimestamp(float(timestamp or 0), tz=timezone.utc)
        turns.append(Turn(at, "family" if type_name == "user" else "assistant", words))
    return turns
