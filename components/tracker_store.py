"""Rasa's SQL tracker store, plus erasure: "delete my data" removes the whole conversation.

When a turn sets the slot ``erasure`` to ``done`` (``action_delete_my_data`` does, once the
application records are gone), the store deletes every stored event for that sender
instead of saving the turn: the history is gone, not just hidden behind a restart.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)
ERASURE_SLOT = "erasure"


class ErasingSQLTrackerStore(SQLTrackerStore):
    """An SQLTrackerStore that honours erasure requests made by ``action_delete_my_data``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        db = kwargs.get("db")
        if kwargs.get("dialect", "sqlite") == "sqlite" and db:
            from pathlib import Path

            Path(db).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, **kwargs)

    async def save(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        if any(
            isinstance(e, SlotSet) and e.key == ERASURE_SLOT and e.value == "done"
            for e in new_events
        ):
            removed = self.erase(tracker.sender_id)
            log.info("erased a conversation on request: %d events removed", removed)
            return
        await super().save(tracker)

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of ``sender_id``; return how many were removed."""
        with self.session_scope() as session:
            removed = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        return int(removed)
