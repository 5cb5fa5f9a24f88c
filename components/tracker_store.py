"""Rasa's SQL tracker store, plus erasure, and a save that writes each event once.

**Erasure.** When a turn sets the slot ``erasure`` to ``done`` (``action_delete_my_data``
does, once the application records are gone), the store deletes every stored event for
that sender instead of saving the turn: the history is gone, not just hidden.

**One write per turn, no counting.** Rasa's ``SQLTrackerStore.save`` found the new events
by counting the stored events of the session (a query with a sub-query), and the erasure
check counted them a second time: 10% of a Rasa server's CPU at 20 conversations at once
(py-spy, docs/figures.md). Here the store remembers how many events each tracker had
when it was read (or last saved) and appends exactly the ones after that, in one
transaction. That is also safer: a stale tracker saved late appends its own new events
instead of skipping as many as somebody else stored meanwhile (the lost turns of issue
17). A tracker the store did not read (built elsewhere) is counted as before.

**A turn reads only what it needs.** A turn used to load, replay and featurise every
event of the session, so turn 60 cost over twice turn 1. ``retrieve_recent`` (used for
turns, see ``components/speedups.py``) reads the last ``RECENT_USER_TURNS`` user turns
whole and, for everything before them, only the slot values (one indexed query for the
slot events): the tracker starts with the session start, those slots and an
``action_listen``. The policies look back 4 turns at most and the rules no further, so
they see the same states. A session with anything before the cut that changes more than
slots (a restart, a rewind, an active form, a paused conversation) is read whole, as are
short sessions. Every other read (``retrieve``: the HTTP API, the channels) is whole.

**Off the event loop.** Reads and writes run in a worker thread, so a slow disk or
database holds up only its own conversation, not every conversation on the server.

Importing this module also installs ``components/speedups.py`` (every endpoints file
names this tracker store, so Rasa always imports it).
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import text

from components import speedups

speedups.apply()

log = logging.getLogger(__name__)
ERASURE_SLOT = "erasure"
STORED = "_stored_event_count"  # set on each tracker this store reads or saves
RECENT_USER_TURNS = 6
# Events before the cut that only the whole history can replay faithfully.
PLAIN_TYPES = ("user", "bot", "action", "user_featurization", "entities")
FOLDABLE_TYPES = ("slot", "active_loop", "session_started")
INDEX = "ix_events_sender_type_id"


class ErasingSQLTrackerStore(SQLTrackerStore):
    """An SQLTrackerStore that honours erasure and appends each new event once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        db = kwargs.get("db")
        if kwargs.get("dialect", "sqlite") == "sqlite" and db:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(*args, **kwargs)
        self._add_index()

    def _add_index(self) -> None:
        """(sender_id, type_name, id): the session start and the cut in one index lookup."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    text(f"CREATE INDEX IF NOT EXISTS {INDEX} ON events (sender_id, type_name, id)")
                )
        except Exception:  # another server is creating it right now
            log.info("events index not created here (another server may have made it)")

    async def retrieve_recent(self, sender_id: str) -> DialogueStateTracker | None:
        """The session's tracker for a turn: recent turns whole, earlier ones as slots."""
        if not speedups.enabled():
            return await self.retrieve(sender_id)
        return await asyncio.to_thread(self._read_recent, sender_id)

    def _read_recent(self, sender_id: str) -> DialogueStateTracker | None:
        if not self.domain:
            return None
        with self.engine.connect() as connection:
            start = connection.execute(
                text(
                    "SELECT max(id) FROM events "
                    "WHERE sender_id = :s AND type_name = 'session_started'"
                ),
                {"s": sender_id},
            ).scalar()
            start = int(start or 0)
            cut = connection.execute(
                text(
                    "SELECT id FROM events WHERE sender_id = :s AND type_name = 'user' "
                    "AND id > :start ORDER BY id DESC LIMIT 1 OFFSET :skip"
                ),
                {"s": sender_id, "start": start, "skip": RECENT_USER_TURNS - 1},
            ).scalar()
            if cut is None:  # a short session: read it whole
                return self._read(sender_id, all_sessions=False)
            earlier = connection.execute(
                text(
                    "SELECT type_name, data FROM events WHERE sender_id = :s AND id >= :start "
                    "AND id < :cut AND type_name NOT IN "
                    "('user', 'bot', 'action', 'user_featurization', 'entities') ORDER BY id"
                ),
                {"s": sender_id, "start": start, "cut": cut},
            ).all()
            head = self._fold(earlier)
            if head is None:
                return self._read(sender_id, all_sessions=False)
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND id >= :cut ORDER BY id"),
                {"s": sender_id, "cut": cut},
            ).all()
        events = head + [json.loads(row.data) for row in rows]
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        setattr(tracker, STORED, len(tracker.events))
        return tracker

    @staticmethod
    def _fold(earlier: list[Any]) -> list[dict[str, Any]] | None:
        """The state before the cut as events (session start, slots, action_listen), or
        None when it holds more than slots and a finished form."""
        slots: dict[str, Any] = {}
        started: dict[str, Any] | None = None
        loop: str | None = None
        for row in earlier:
            if row.type_name not in FOLDABLE_TYPES:
                return None
            data = json.loads(row.data)
            if row.type_name == "slot":
                slots[data["name"]] = data.get("value")
            elif row.type_name == "active_loop":
                loop = data.get("name")
            else:
                started = data
        if loop is not None:
            return None
        moment = (started or {}).get("timestamp")
        head = [started] if started else []
        head += [
            {"event": "slot", "name": name, "value": value, "timestamp": moment}
            for name, value in slots.items()
        ]
        head.append({"event": "action", "name": "action_listen", "timestamp": moment})
        return head

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Read in a worker thread: the event loop serves other conversations meanwhile."""
        if not speedups.enabled():
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        return await asyncio.to_thread(self._read, sender_id, fetch_events_from_all_sessions)

    def _read(self, sender_id: str, all_sessions: bool) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=all_sessions
            ).all()
            events = [json.loads(row.data) for row in rows]
        if not self.domain or not events:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not all_sessions:
            setattr(tracker, STORED, len(tracker.events))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not speedups.enabled():
            return await self._stock_save(tracker)
        if self.event_broker:
            await self.stream_events(tracker)
        # The turn holds the conversation's lock, so nothing else touches this tracker.
        await asyncio.to_thread(self._write, tracker)

    def _write(self, tracker: DialogueStateTracker) -> None:
        events = list(tracker.events)
        with self.session_scope() as session:
            stored = getattr(tracker, STORED, None)
            if stored is None or stored > len(events):
                stored = self._event_query(
                    session, tracker.sender_id, fetch_events_from_all_sessions=False
                ).count()
            new_events = events[stored:]
            if any(
                isinstance(e, SlotSet) and e.key == ERASURE_SLOT and e.value == "done"
                for e in new_events
            ):
                session.close()
                removed = self.erase(tracker.sender_id)
                log.info("erased a conversation on request: %d events removed", removed)
                setattr(tracker, STORED, len(events))
                return
            if new_events:  # one INSERT with every row (executemany), one commit
                rows = [self._row(tracker.sender_id, e) for e in new_events]
                session.execute(self.SQLEvent.__table__.insert(), rows)
                session.commit()
        setattr(tracker, STORED, len(events))

    async def _stock_save(self, tracker: DialogueStateTracker) -> None:
        """The save as it was (RASA_SPEEDUPS=off): count, check erasure, count, insert."""
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        if any(
            isinstance(e, SlotSet) and e.key == ERASURE_SLOT and e.value == "done"
            for e in new_events
        ):
            self.erase(tracker.sender_id)
            return
        await super().save(tracker)

    @staticmethod
    def _row(sender_id: str, event: Any) -> dict[str, Any]:
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

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
