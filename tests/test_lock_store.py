"""The leased Redis lock store on a real Redis (TEST_REDIS_URL): tickets in order, one
holder across processes, leases that free a dead holder's conversation and are renewed
for a live one, and a per-process fallback when Redis is down."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
import urllib.parse
import uuid

import pytest

from components.lock_store import LeasedRedisLockStore
from tests.conftest import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
_url = urllib.parse.urlsplit(REDIS_URL)
OPTIONS = {
    "host": _url.hostname or "127.0.0.1",
    "port": _url.port or 6379,
    "db": int((_url.path or "/1").strip("/") or 1),
}


@pytest.fixture(autouse=True)
def redis_available():
    import redis

    try:
        redis.Redis(**OPTIONS, socket_connect_timeout=2).ping()
    except Exception as exc:
        pytest.skip(f"Redis is not reachable at TEST_REDIS_URL ({type(exc).__name__})")


def store(lease: float = 3.0) -> LeasedRedisLockStore:
    return LeasedRedisLockStore(**OPTIONS, key_prefix="test", lease_seconds=lease)


def conversation() -> str:
    return f"lock-test-{uuid.uuid4().hex}"


def test_tickets_are_served_in_the_order_they_were_issued():
    async def scenario() -> list[int]:
        locks, sender = store(), conversation()
        first, second, third = [await locks.issue(sender) for _ in range(3)]
        states = [await locks.try_acquire(sender, t) for t in (first, second, third)]
        await locks.release(sender, first)
        states.append(await locks.try_acquire(sender, second))
        for ticket in (second, third):
            await locks.release(sender, ticket)
        return states

    assert asyncio.run(scenario()) == [1, 0, 0, 1]


def test_the_last_release_leaves_no_keys_behind():
    import redis

    async def scenario(sender: str) -> None:
        async with store().lock(sender):
            pass

    sender = conversation()
    asyncio.run(scenario(sender))
    assert redis.Redis(**OPTIONS).exists(*store().keys(sender)) == 0


def _hold_and_count(sender: str, rounds: int, counter_key: str) -> None:
    """In a separate process: a non-atomic read-then-write of a counter, under the lock."""
    import redis

    red = redis.Redis(**OPTIONS)

    async def run() -> None:
        locks = store()
        for _ in range(rounds):
            async with locks.lock(sender):
                value = int(red.get(counter_key) or 0)
                await asyncio.sleep(0.002)  # a turn's work, so an overlap would show
                red.set(counter_key, value + 1)

    asyncio.run(run())


def test_one_holder_at_a_time_across_processes():
    import redis

    sender, counter = conversation(), f"test:counter:{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_hold_and_count, args=(sender, 25, counter)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    red = redis.Redis(**OPTIONS)
    try:
        assert int(red.get(counter)) == 100  # no two increments overlapped
    finally:
        red.delete(counter)


def test_a_dead_holders_lease_runs_out_and_the_next_message_goes_on():
    async def scenario() -> float:
        locks, sender = store(lease=0.5), conversation()
        await locks.issue(sender)  # a server takes the lock and dies: nobody renews it
        started = time.monotonic()
        async with locks.lock(sender):
            return time.monotonic() - started

    waited = asyncio.run(scenario())
    assert 0.3 < waited < 1.5


def test_a_live_holders_lease_is_renewed_while_its_turn_runs():
    async def scenario() -> list[str]:
        locks, sender, order = store(lease=0.3), conversation(), []

        async def long_turn() -> None:
            async with locks.lock(sender):
                order.append("long turn starts")
                await asyncio.sleep(1.0)  # over three leases
                order.append("long turn ends")

        async def next_message() -> None:
            await asyncio.sleep(0.1)
            async with store(lease=0.3).lock(sender):
                order.append("next message")

        await asyncio.gather(long_turn(), next_message())
        return order

    assert asyncio.run(scenario()) == ["long turn starts", "long turn ends", "next message"]


def test_without_redis_each_server_still_serialises_its_own_turns(caplog):
    async def scenario() -> list[str]:
        locks = LeasedRedisLockStore(host="127.0.0.1", port=free_port(), socket_timeout=1)
        sender, order = conversation(), []

        async def turn(name: str) -> None:
            async with locks.lock(sender):
                order.append(f"{name} in")
                await asyncio.sleep(0.05)
                order.append(f"{name} out")

        await asyncio.gather(turn("a"), turn("b"))
        return order

    assert asyncio.run(scenario()) == ["a in", "a out", "b in", "b out"]
    assert "Redis lock store unreachable" in caplog.text
