"""Dead letters can be listed and sent again (the staff console's "send again")."""

from __future__ import annotations

import asyncio

from bot.notify.outbox import DEAD, PENDING, SENT, dead_letters, deliver_due, enqueue, retry


class Broken:
    async def send(self, address: str, body: str) -> str:
        from bot.notify.outbox import PermanentFailure

        raise PermanentFailure("no such address")


class Works:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, address: str, body: str) -> str:
        self.sent.append((address, body))
        return "ok-1"


def test_a_dead_message_is_listed_and_sent_again_once(engine):
    first = enqueue(engine, "email", "team@example.org", "hello")
    asyncio.run(deliver_due(engine, {"email": Broken()}))
    (dead,) = dead_letters(engine)
    assert (dead.id, dead.status, dead.last_error) == (first, DEAD, "no such address")

    assert retry(engine, first) is True
    assert dead_letters(engine) == []
    assert retry(engine, first) is False  # no longer dead: a second click does nothing
    works = Works()
    asyncio.run(deliver_due(engine, {"email": works}))
    assert works.sent == [("team@example.org", "hello")]
    from bot.notify.outbox import messages_for

    (row,) = messages_for(engine, "team@example.org")
    assert (row.status, row.attempts) == (SENT, 1)


def test_retry_refuses_a_message_that_is_not_dead(engine):
    waiting = enqueue(engine, "email", "team@example.org", "still pending")
    assert retry(engine, waiting) is False
    assert retry(engine, 9999) is False
    assert dead_letters(engine) == []
    from bot.notify.outbox import messages_for

    assert [r.status for r in messages_for(engine, "team@example.org")] == [PENDING]
