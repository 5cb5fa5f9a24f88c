"""A Redis lock store whose tickets hold across several Rasa servers, with leases.

Rasa 3.6's ``RedisLockStore`` keeps one JSON list of tickets per conversation and issues a
ticket by reading the list, appending to it and writing it back (RasaHQ/rasa#9213). Two
servers that take a message of the same person at the same moment both read the empty
list, both get ticket 0, both run the turn at once, and the tracker store keeps only one
of the two user turns. The upstream fix (``ConcurrentRedisLockStore``, PR #11256) made
only the counter an ``INCR``: the ticket list itself was still read, changed and written
back by each server, which is why it was reverted (#11428) and never came back to Rasa
Open Source. Its tickets also lived 60 s (``TICKET_LOCK_LIFETIME``): a server that died
mid-turn left a ticket that stalled the conversation for a minute and then made the
waiting message's own ticket expire with it.

Here every step is one Lua script run inside Redis, so it is atomic whatever the number
of servers:

- **issue**: ``INCR`` a per-conversation counter, add the number to a sorted set (the
  queue, lowest first) and give it a lease (a deadline in Redis's own clock, ``TIME``);
- **try**: drop tickets whose lease ran out, renew ours, and say whether ours is first;
- **renew**: push our lease forward (a background task does it every third of a lease
  while the turn runs, and the waiting ticket is renewed by its polling);
- **release**: remove our ticket; the last one out deletes the keys.

A server that dies stops renewing, so its ticket is gone ``lease_seconds`` (3 s) later and
the next message of that person goes on on another server. A server whose own ticket was
dropped (its event loop stalled longer than a lease) logs it loudly; the tracker store
(``components/tracker_store.py``) appends only the events a turn added, so even then no
turn is lost. If Redis cannot be reached the store falls back to a lock per process and
says so in the log: a family still gets an answer, on one server turns stay in order.

Configure it in ``endpoints.production.yml``::

    lock_store:
      type: components.lock_store.LeasedRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      db: 1
      lease_seconds: 3
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import redis.exceptions
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 3.0
FIRST_POLL_SECONDS = 0.01
LAST_POLL_SECONDS = 0.1
UNREACHABLE = (OSError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

# Milliseconds now, in Redis's clock, so servers with skewed clocks agree on leases.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
_TOUCH = """
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
"""
# KEYS: counter, queue, leases. ARGV: lease ms, idle ms.
ISSUE = (
    _NOW
    + """
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, n)
redis.call('HSET', KEYS[3], n, now + tonumber(ARGV[1]))
"""
    + _TOUCH
    + "return n\n"
)
# ARGV: lease ms, idle ms, ticket. Returns 1 (our turn), 0 (wait), -1 (ticket gone).
TRY = (
    _NOW
    + """
for _, ticket in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local deadline = tonumber(redis.call('HGET', KEYS[3], ticket) or '0')
  if deadline < now then
    redis.call('ZREM', KEYS[2], ticket)
    redis.call('HDEL', KEYS[3], ticket)
  end
end
if not redis.call('ZSCORE', KEYS[2], ARGV[3]) then return -1 end
redis.call('HSET', KEYS[3], ARGV[3], now + tonumber(ARGV[1]))
"""
    + _TOUCH
    + """
if redis.call('ZRANGE', KEYS[2], 0, 0)[1] == ARGV[3] then return 1 end
return 0
"""
)
# ARGV: lease ms, idle ms, ticket. Returns 1 (renewed) or 0 (ticket gone).
RENEW = (
    _NOW
    + """
if not redis.call('ZSCORE', KEYS[2], ARGV[3]) then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], now + tonumber(ARGV[1]))
"""
    + _TOUCH
    + "return 1\n"
)
# ARGV: ticket. Returns how many tickets are left.
RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
local left = redis.call('ZCARD', KEYS[2])
if left == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return left
"""


class LeasedRedisLockStore(LockStore):
    """Ticket locks in Redis, issued atomically, with leases renewed while a turn runs."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        host: str = "localhost",
        port: int = 6379,
        db: int = 1,
        password: str | None = None,
        key_prefix: str = "",
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        socket_timeout: float = 5.0,
    ) -> None:
        if endpoint_config is not None:
            options: dict[str, Any] = dict(endpoint_config.kwargs)
            host = endpoint_config.url or options.pop("host", host)
            port = int(options.get("port", port))
            db = int(options.get("db", db))
            password = options.get("password", password) or None
            key_prefix = str(options.get("key_prefix", key_prefix) or "")
            lease_seconds = float(options.get("lease_seconds", lease_seconds))
            socket_timeout = float(options.get("socket_timeout", socket_timeout))
        self.host, self.port, self.db, self.password = host, int(port), int(db), password
        self.socket_timeout = socket_timeout
        self.key_prefix = f"{key_prefix}:lock:" if key_prefix else "lock:"
        self.lease_ms = max(100, int(lease_seconds * 1000))
        # Keys of a conversation nobody renews vanish on their own after this long.
        self.idle_ms = max(60_000, self.lease_ms * 20)
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, Any] = {}
        self._local: dict[str, asyncio.Lock] = {}
        super().__init__()

    # -- Redis -----------------------------------------------------------------------

    def _redis(self) -> Any:
        """One asyncio Redis client per event loop (Sanic runs one; tests may run more)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            import redis.asyncio

            self._client = redis.asyncio.Redis(
                host=self.host,
                port=self.port,
                db=self.db,
                password=self.password,
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.socket_timeout,
            )
            self._client_loop = loop
            self._scripts = {
                name: self._client.register_script(source)
                for name, source in (
                    ("issue", ISSUE),
                    ("try", TRY),
                    ("renew", RENEW),
                    ("release", RELEASE),
                )
            }
        return self._client

    def keys(self, conversation_id: str) -> list[str]:
        """The counter, queue and lease keys of a conversation (one hash slot)."""
        base = f"{self.key_prefix}{{{conversation_id}}}"
        return [f"{base}:next", f"{base}:queue", f"{base}:lease"]

    async def _run(self, script: str, conversation_id: str, *args: Any) -> int:
        self._redis()
        result = await self._scripts[script](keys=self.keys(conversation_id), args=list(args))
        return int(result)

    async def issue(self, conversation_id: str) -> int:
        """A new ticket for ``conversation_id``, behind every ticket issued before it."""
        return await self._run("issue", conversation_id, self.lease_ms, self.idle_ms)

    async def try_acquire(self, conversation_id: str, ticket: int) -> int:
        """1 if ``ticket`` is first in line now, 0 if it must wait, -1 if it expired."""
        return await self._run("try", conversation_id, self.lease_ms, self.idle_ms, ticket)

    async def renew(self, conversation_id: str, ticket: int) -> bool:
        """Push the ticket's lease forward; False if it had already expired."""
        return bool(await self._run("renew", conversation_id, self.lease_ms, self.idle_ms, ticket))

    async def release(self, conversation_id: str, ticket: int) -> None:
        await self._run("release", conversation_id, ticket)

    # -- the lock Rasa uses ------------------------------------------------------------

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock while the ``async with`` block runs.

        Waits at most ``lock_lifetime`` seconds for the servers ahead of this message,
        then raises ``LockError`` (as Rasa's own lock stores do).
        """
        try:
            ticket: int | None = await self.issue(conversation_id)
        except UNREACHABLE as exc:
            ticket, problem = None, exc
        if ticket is None:
            async with self._fallback(conversation_id, problem) as held:
                yield held
            return
        ticket = await self._wait_for_turn(conversation_id, ticket, lock_lifetime)
        keeper = asyncio.create_task(self._keep_alive(conversation_id, ticket))
        try:
            yield TicketLock(conversation_id)
        finally:
            keeper.cancel()
            await self._release_quietly(conversation_id, ticket)

    async def _wait_for_turn(self, conversation_id: str, ticket: int, patience: float) -> int:
        """Poll until ``ticket`` is first in line; on any failure give the ticket back."""
        deadline = time.monotonic() + patience
        pause = FIRST_POLL_SECONDS
        try:
            while True:
                state = await self.try_acquire(conversation_id, ticket)
                if state == 1:
                    return ticket
                if state == -1:  # our own lease ran out while we waited (a stalled loop)
                    log.warning("a waiting lock ticket expired; queueing again")
                    ticket = await self.issue(conversation_id)
                    continue
                if time.monotonic() > deadline:
                    raise LockError(
                        f"Could not acquire lock for conversation_id '{conversation_id}'."
                    )
                await asyncio.sleep(pause)
                pause = min(LAST_POLL_SECONDS, pause * 1.5)
        except BaseException:
            await self._release_quietly(conversation_id, ticket)
            raise

    async def _release_quietly(self, conversation_id: str, ticket: int) -> None:
        try:
            await self.release(conversation_id, ticket)
        except Exception:  # the lease runs out on its own
            log.warning("could not release a conversation lock; its lease will expire")

    async def _keep_alive(self, conversation_id: str, ticket: int) -> None:
        every = self.lease_ms / 3000
        while True:
            await asyncio.sleep(every)
            try:
                if not await self.renew(conversation_id, ticket):
                    log.error(
                        "a conversation lock's lease expired while its turn was running "
                        "(the event loop stalled for over %.1f s)",
                        self.lease_ms / 1000,
                    )
                    return
            except Exception:
                log.warning("could not renew a conversation lock; retrying")

    @asynccontextmanager
    async def _fallback(
        self, conversation_id: str, exc: BaseException
    ) -> AsyncGenerator[TicketLock, None]:
        log.error(
            "Redis lock store unreachable (%s): using a lock in this process only",
            type(exc).__name__,
        )
        local = self._local.setdefault(conversation_id, asyncio.Lock())
        async with local:
            yield TicketLock(conversation_id)
        if not local.locked() and self._local.get(conversation_id) is local:
            self._local.pop(conversation_id, None)

    # Rasa's synchronous ticket API is not used by ``lock`` above; nothing else calls it.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("LeasedRedisLockStore issues tickets with Lua scripts")

    def delete_lock(self, conversation_id: str) -> None:
        raise NotImplementedError("LeasedRedisLockStore releases tickets with Lua scripts")
