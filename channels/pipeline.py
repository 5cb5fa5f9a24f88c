"""One inbound message's life, the same on SMS, WhatsApp and Telegram.

A channel adapter parses and verifies a request into an :class:`Inbound`, then hands it
here: **stored** (with the sender's address, once: a repeat is dropped; the webhook can
answer from here) -> **crisis pre-check** (started at once in a thread of its own; the
emergency reply is :func:`bot.safeguard.crisis_fallback`) -> **opt-out, opt-in, help,
flood** -> **turn** (Rasa, retried for a short while when it fails) -> **rendered and
sent** by the adapter. Every stored message ends with one :class:`Status`.

A failed turn (Rasa or the action server raised, timed out, or answered nothing) is
retried for ``retry_for`` seconds; then the family gets the adapter's apology, and a
crisis the emergency reply. A message stored but still "received" when its process died
is taken up again by :meth:`Pipeline.recover` after a restart, once (the sweep claims each
row with a conditional update; replies that wait in the outbox carry a dedupe key).

Database calls run in worker threads (``asyncio.to_thread``; storing an arrival in
``ADMISSIONS``, so an acknowledgement never queues behind answers): none blocks the Rasa
server's event loop. One turn at a time per conversation, in the order they came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any, Protocol

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sqlalchemy.engine import Engine

from bot import contacts
from bot.safeguard import crisis_fallback
from bot.safety import check_message, is_emergency_reply

log = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# The crisis checks have a thread of their own: a burst of them (CPU-bound) never holds
# up the database calls that store and acknowledge new messages in the default pool, and
# one check at a time leaves the event loop most of the interpreter's time.
CHECKS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crisis-check")
# Storing an arrival has threads of its own too: under load the default pool's queue holds
# the answers' own writes (statuses, menus, the outbox), and a new webhook waiting behind
# them is an acknowledgement waiting for other people's turns.
ADMISSIONS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="admit")
Message = dict[str, Any]


class Storing:
    """How many arrivals this process is storing now: answers wait (a little) for them.

    A burst (50 families writing at the same moment) is acknowledged first and answered
    after: the answers' own work (crisis checks, turns, sends, and the Rasa and action
    servers they wake) would otherwise share the cores with the stores that the webhooks
    wait for. An answer waits at most ``settle_within`` seconds, so a steady stream of
    arrivals never holds it up for long."""

    def __init__(self) -> None:
        self.count = 0

    @contextlib.contextmanager
    def one(self) -> Iterator[None]:
        self.count += 1
        try:
            yield
        finally:
            self.count -= 1

    async def settled(self, within: float) -> None:
        """Return when no arrival is being stored, or after ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.count and loop.time() < deadline:
            await asyncio.sleep(0.005)


STORING = Storing()  # one per process: the SMS, WhatsApp and Telegram adapters share it


class Status(str, Enum):
    """What became of an inbound message (``inbound_messages.status``)."""

    RECEIVED = contacts.RECEIVED  # stored, not finished: a restart takes it up again
    REPLIED = "replied"  # the turn's reply was sent (or handed to Twilio in TwiML)
    QUEUED = "queued"  # the turn's reply waits in the outbox
    STOPPED = "stopped"  # opted out now
    OPTED_OUT = "opted_out"  # opted out before: nothing sent
    RESUMED = "resumed"  # opted back in, and told so
    HELP = "help"  # the channel's own help text
    FLOOD = "flood"  # too many this minute: asked to wait once, then silence
    UNREADABLE = "unreadable"  # media or an empty message: asked to type
    STALE = "stale"  # a button from an older message
    CRISIS = "crisis"  # opted out, but at risk: the emergency reply only
    APOLOGISED = "apologised"  # the turn failed; the family got an apology
    FAILED_CRISIS = "failed_crisis"  # the turn failed; the emergency reply went instead
    SEND_FAILED = "send_failed"  # the reply could not be sent
    FAILED = "failed"  # something broke before anything could be sent


class Keyword(str, Enum):
    """What a channel's fixed words mean (STOP, START, HELP on SMS; /stop, /start on
    Telegram)."""

    STOP = "stop"
    START = "start"
    HELP = "help"


class Kind(str, Enum):
    TEXT = "text"
    BUTTON = "button"
    COMMAND = "command"
    MEDIA = "media"


@dataclass(frozen=True)
class Inbound:
    """One message as the adapter read it. ``address`` (the phone number or chat id) is
    stored only in ``contacts``; everything else uses the pseudonym ``sender``."""

    channel: str
    external_id: str
    sender: str
    address: str
    text: str = ""
    kind: Kind = Kind.TEXT
    truncated: bool = False
    command: str | None = None
    callback_id: str | None = None

    @property
    def stored_text(self) -> str:
        return self.text or "(not text)"


@dataclass(frozen=True)
class Fixed:
    """A fixed answer instead of a turn (media, an empty body, a stale button)."""

    text: str
    status: Status


class InlineReply:
    """A webhook that can still answer in its HTTP response (Twilio's TwiML): the pipeline
    ``offer``s the reply; once the webhook has ``close``d, replies go by the outbox."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.closed = False
        self.ready = asyncio.Event()

    def offer(self, text: str) -> bool:
        if self.closed:
            return False
        self.text, self.closed = text, True
        self.ready.set()
        return True

    def close(self) -> None:
        self.closed = True


@dataclass
class Job:
    """An inbound message being answered, and what has been sent for it so far."""

    inbound: Inbound
    engine: Engine
    safeguarding_contact: str = ""
    crisis: bool | None = None  # None: not checked yet (see :meth:`check`)
    recent: int = 0
    inline: InlineReply | None = None
    recovered: bool = False
    emergency_sent: bool = False  # the emergency reply already went (in a TwiML answer)
    answered: bool = False  # a reply for it was sent or queued
    _emergency: asyncio.Future[str | None] | None = field(default=None, repr=False)
    _check: asyncio.Future[bool] | None = field(default=None, repr=False)

    def start_check(self) -> None:
        """Start the crisis pre-check in a worker thread (once). The webhook does not wait
        for it: the message is stored first, so a process that dies before the check
        leaves it to the restart sweep, which checks it again."""
        if self.crisis is None and self._check is None:
            loop = asyncio.get_running_loop()
            self._check = loop.run_in_executor(CHECKS, is_crisis, self.inbound)

    async def check(self) -> bool:
        """The crisis pre-check's answer, waiting for it if it is still running."""
        if self.crisis is None:
            self.start_check()
            assert self._check is not None
            self.crisis = await asyncio.shield(self._check)
        return self.crisis

    async def emergency(self) -> str | None:
        """The emergency reply (and a flag for staff), made once however often it is asked."""
        if self._emergency is None:
            self._emergency = asyncio.ensure_future(
                asyncio.to_thread(
                    crisis_fallback,
                    self.engine,
                    self.inbound.sender,
                    self.inbound.channel,
                    self.inbound.text,
                    safeguarding_contact=self.safeguarding_contact,
                )
            )
        return await asyncio.shield(self._emergency)


class Adapter(Protocol):
    """What a channel does itself: its words, its texts, rendering and sending."""

    channel: str
    stopped_text: str | None  # None: the carrier confirms STOP itself
    resumed_text: str | None  # None: opting in carries on to the turn (Telegram /start)
    help_text: str
    flood_text: str
    apology_text: str

    def keyword(self, inbound: Inbound) -> Keyword | None: ...

    def stop_reason(self, inbound: Inbound) -> str: ...

    def resumes(self, inbound: Inbound, keyword: Keyword | None, reason: str) -> bool: ...

    def for_rasa(self, inbound: Inbound, menu: list[dict[str, Any]]) -> str | Fixed: ...

    def collector(self) -> CollectingOutputChannel: ...

    def restore(self, row: contacts.Unanswered) -> Inbound | None: ...

    async def begin(self, inbound: Inbound) -> None: ...

    async def deliver(
        self, job: Job, messages: list[Message], turn: bool, part: str = "reply"
    ) -> Status: ...

    async def after_reply(self, job: Job, messages: list[Message]) -> None: ...


# Rasa catches an action server's failure itself ("Bot will continue, but the actions
# events are lost") and the turn ends as if it went well. This filter notes it against
# the turn it happened in (the turn's task carries its own list in a context variable).
_action_failures: ContextVar[list[str] | None] = ContextVar("action_failures", default=None)
ACTION_FAILED = "Encountered an exception while running action"


class _NoteActionFailures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        failures = _action_failures.get()
        if failures is not None and str(record.msg).startswith(ACTION_FAILED):
            failures.append(record.getMessage()[:200])
        return True


logging.getLogger("rasa.core.processor").addFilter(_NoteActionFailures())


async def noted(on_new_message: OnNewMessage, message: UserMessage, failures: list[str]) -> None:
    """Run one turn, noting in ``failures`` each action failure Rasa logs during it. Run it
    as a task of its own (``asyncio.ensure_future``), so the list is that turn's alone.
    The turn endpoint (:mod:`channels.turn`) uses it too."""
    _action_failures.set(failures)  # this task's own context
    await on_new_message(message)


def is_crisis(inbound: Inbound) -> bool:
    """The full detector, on what the person typed (never on a button's payload). If the
    learned part fails, the patterns still decide: never no check at all."""
    if inbound.kind not in (Kind.TEXT, Kind.COMMAND):
        return False
    try:
        return check_message(inbound.text).crisis
    except Exception:
        log.exception("%s: the crisis detector failed; patterns only", inbound.channel)
        return check_message(inbound.text, learned=False).crisis


async def save_menu(engine: Engine, sender: str, menu: list[dict[str, Any]]) -> None:
    """Remember the menu a reply shows, if the database lets us: the reply goes anyway
    (a number typed later then asks again instead of picking)."""
    try:
        await asyncio.to_thread(contacts.save_menu, engine, sender, menu)
    except Exception:
        log.exception("could not store the menu shown to %s; the reply goes without it", sender)


def emergency_texts(messages: Sequence[Message]) -> bool:
    return is_emergency_reply([str(m.get("text") or "") for m in messages])


class Pipeline:
    """Admits, answers and recovers inbound messages for the adapters of one server."""

    turn_timeout = 30.0  # seconds one attempt at a turn may take
    retry_for = 20.0  # seconds within which a failed turn is tried again
    first_pause = 1.0  # then 2, 4 ... seconds between attempts
    crisis_within = 8.0  # seconds a crisis waits for Rasa before the channel answers
    recover_after = timedelta(minutes=2)  # longer than any turn with its retries
    recover_within = timedelta(hours=24)  # older messages are not answered any more
    recover_every = 30.0  # seconds between sweeps
    max_attempts = 3  # taken up this often after restarts: then only an apology
    settle_within = 0.5  # seconds an answer waits for arrivals being stored (``Storing``)

    def __init__(
        self,
        engine: Callable[[], Engine],
        safeguarding_contact: str = "",
        recover_after: float | None = None,
        recover_every: float | None = None,
    ) -> None:
        self._engine = engine
        self.safeguarding_contact = safeguarding_contact
        if recover_after is not None:
            self.recover_after = timedelta(seconds=recover_after)
        if recover_every is not None:
            self.recover_every = recover_every
        self.tasks: set[asyncio.Task[Any]] = set()
        self.sweeps: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._latest: dict[str, asyncio.Task[Status]] = {}
        self._waiting: dict[str, int] = {}
        # Outcomes the database could not store (it was down): stored before the next
        # sweep takes anything up, so a message answered then is not answered again.
        self._unsaved: dict[tuple[str, str], Status] = {}

    @property
    def engine(self) -> Engine:
        return self._engine()

    # -- stored, de-duplicated -------------------------------------------------------

    async def admit(self, inbound: Inbound) -> Job | None:
        """Store ``inbound``; None if it came before. Only the store: the webhook can answer
        as soon as the message is safe, and the crisis pre-check runs in :meth:`run`."""
        with STORING.one():
            arrival = await asyncio.get_running_loop().run_in_executor(
                ADMISSIONS, contacts.admit, self.engine, inbound.channel, inbound.external_id,
                inbound.sender, inbound.address, inbound.stored_text, inbound.kind.value,
            )  # fmt: skip
        if not arrival.new:
            log.info("%s: %s came again; not answered twice", inbound.channel, inbound.external_id)
            return None
        return Job(inbound, self.engine, self.safeguarding_contact, recent=arrival.recent)

    def start(
        self, adapter: Adapter, job: Job, on_new_message: OnNewMessage
    ) -> asyncio.Task[Status]:
        """Answer ``job`` in the background; the task's result is its final status."""
        sender = job.inbound.sender
        task = asyncio.create_task(
            self.run(adapter, job, on_new_message, after=self._latest.get(sender))
        )
        self._latest[sender] = task  # the next message from this sender waits for this one
        self.tasks.add(task)

        def done(finished: asyncio.Task[Status]) -> None:
            self.tasks.discard(finished)
            if self._latest.get(sender) is finished:
                del self._latest[sender]

        task.add_done_callback(done)
        return task

    async def run(
        self,
        adapter: Adapter,
        job: Job,
        on_new_message: OnNewMessage,
        after: asyncio.Future[Any] | None = None,
    ) -> Status:
        """Answer one stored message after earlier ones from the same sender (``after``:
        the one started just before it); store its final status."""
        inbound = job.inbound
        await STORING.settled(self.settle_within)  # webhooks waiting to be stored go first
        job.start_check()  # now: a crisis is known while earlier turns still run
        try:
            await adapter.begin(inbound)
        except Exception:
            log.exception("%s: could not acknowledge %s", inbound.channel, inbound.external_id)
        if after is not None:
            await asyncio.wait({after})  # in the order they came, whatever begin() took
        async with self._one_at_a_time(inbound.sender):
            try:
                if await job.check() and job.emergency_sent:
                    await job.emergency()  # sent while the database was down: flag it now
                status = await self.respond(adapter, job, on_new_message)
            except Exception:
                log.exception(
                    "%s: %s for %s failed", inbound.channel, inbound.external_id, inbound.sender
                )
                status = await self.last_word(adapter, job)
        try:
            await asyncio.to_thread(
                contacts.set_inbound_status, self.engine, inbound.channel, inbound.external_id,
                status.value,
            )  # fmt: skip
        except Exception:
            log.exception(
                "%s: could not store the outcome of %s; kept to store before the next sweep",
                inbound.channel, inbound.external_id,
            )  # fmt: skip
            self._unsaved[(inbound.channel, inbound.external_id)] = status
        log.info(
            "%s: %s for %s: %s", inbound.channel, inbound.external_id, inbound.sender, status.value
        )
        return status

    # -- opt-out, opt-in, help, flood, crisis, turn ------------------------------------

    async def respond(self, adapter: Adapter, job: Job, on_new_message: OnNewMessage) -> Status:
        """Send nothing, a fixed answer, or the turn's reply; return the status to store."""
        inbound, engine = job.inbound, self.engine
        where = await asyncio.to_thread(contacts.standing, engine, inbound.sender)
        keyword = adapter.keyword(inbound)
        if keyword is Keyword.STOP:
            if where.opted_out is not None:
                return Status.OPTED_OUT
            reason = adapter.stop_reason(inbound)
            await asyncio.to_thread(
                contacts.opt_out, engine, inbound.channel, inbound.sender, reason
            )
            log.info("%s: %s opted out", inbound.channel, inbound.sender)
            if adapter.stopped_text:
                return await self.fixed(adapter, job, adapter.stopped_text, Status.STOPPED)
            return Status.STOPPED
        if where.opted_out is not None:
            if not adapter.resumes(inbound, keyword, where.opted_out):
                # Safety first: someone at risk gets the emergency numbers even after STOP.
                if job.crisis and job.emergency_sent:
                    return Status.CRISIS
                help_text = await job.emergency() if job.crisis else None
                if help_text:
                    return await self.fixed(adapter, job, help_text, Status.CRISIS)
                return Status.OPTED_OUT
            await asyncio.to_thread(contacts.opt_in, engine, inbound.sender)
            log.info("%s: %s opted back in", inbound.channel, inbound.sender)
            if adapter.resumed_text:
                return await self.fixed(adapter, job, adapter.resumed_text, Status.RESUMED)
        if keyword is Keyword.HELP:
            return await self.fixed(adapter, job, adapter.help_text, Status.HELP)
        if job.recent > contacts.FLOOD_LIMIT_PER_MINUTE and not job.crisis:
            if job.recent == contacts.FLOOD_LIMIT_PER_MINUTE + 1:  # the first one over
                return await self.fixed(adapter, job, adapter.flood_text, Status.FLOOD)
            return Status.FLOOD
        prepared = adapter.for_rasa(inbound, where.menu)
        if isinstance(prepared, Fixed):
            return await self.fixed(adapter, job, prepared.text, prepared.status)
        messages = await self.turn(adapter, job, prepared, on_new_message)
        if messages is None:
            return await self.failed(adapter, job)
        if job.crisis and not job.emergency_sent and not emergency_texts(messages):
            help_text = await job.emergency()  # Rasa answered without the emergency numbers
            messages = [*([{"text": help_text}] if help_text else []), *messages]
        if job.emergency_sent:  # already in the TwiML answer: not twice
            messages = [m for m in messages if not emergency_texts([m])]
        status = await adapter.deliver(job, messages, turn=True)
        job.answered = job.answered or status in (Status.REPLIED, Status.QUEUED)
        if status is Status.REPLIED:
            await adapter.after_reply(job, messages)
        return status

    async def fixed(self, adapter: Adapter, job: Job, text: str, status: Status) -> Status:
        """Send one fixed text; ``status`` once it went (or the sending problem)."""
        sent = await adapter.deliver(job, [{"text": text}], turn=False)
        if sent in (Status.REPLIED, Status.QUEUED):
            job.answered = True
            return status
        return sent

    async def failed(self, adapter: Adapter, job: Job) -> Status:
        """The turn failed for good: the emergency reply for a crisis, else an apology."""
        if job.crisis:
            if job.emergency_sent:
                return Status.FAILED_CRISIS
            help_text = await job.emergency()
            if help_text:
                return await self.fixed(adapter, job, help_text, Status.FAILED_CRISIS)
        return await self.fixed(adapter, job, adapter.apology_text, Status.APOLOGISED)

    async def last_word(self, adapter: Adapter, job: Job) -> Status:
        """Something broke before any reply went (the database went down between storing
        the message and answering it, say): nobody is left in silence. A crisis still gets
        the emergency reply (the detector and the national numbers need no database),
        anyone else the apology. ``failed`` only if even that cannot be sent."""
        if job.answered:
            return Status.FAILED
        try:
            return await self.failed(adapter, job)
        except Exception:
            log.exception("%s: no reply at all could be sent for %s", job.inbound.channel,
                          job.inbound.external_id)  # fmt: skip
            return Status.FAILED

    async def unstored(self, inbound: Inbound) -> str | None:
        """The emergency reply for a crisis that could not be stored (the database is
        down), else None. The detector runs as for any message; the flag for staff is
        tried, and logged with its category if the database cannot take it."""
        if inbound.kind not in (Kind.TEXT, Kind.COMMAND):
            return None
        return await asyncio.get_running_loop().run_in_executor(CHECKS, self._unstored, inbound)

    def _unstored(self, inbound: Inbound) -> str | None:
        try:
            engine: Engine | None = self.engine
        except Exception:  # no engine at all: the database was down when this process began
            log.exception("%s: no database; a crisis gets the national numbers", inbound.channel)
            engine = None
        return crisis_fallback(
            engine, inbound.sender, inbound.channel, inbound.text,
            safeguarding_contact=self.safeguarding_contact,
        )  # fmt: skip

    async def turn(
        self, adapter: Adapter, job: Job, text: str, on_new_message: OnNewMessage
    ) -> list[Message] | None:
        """The turn's messages, tried again while it fails; None if it never went well.

        A crisis is not left waiting: if Rasa has not answered within ``crisis_within``
        seconds, or its first attempt failed, the emergency reply goes first and the turn
        carries on."""
        inbound = job.inbound
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_for
        attempt = 0
        while True:
            attempt += 1
            collector = adapter.collector()
            message = UserMessage(
                text, collector, inbound.sender, input_channel=inbound.channel,
                message_id=inbound.external_id,
            )  # fmt: skip
            failures: list[str] = []
            problem = ""
            started = loop.time()
            running = asyncio.ensure_future(noted(on_new_message, message, failures))
            try:
                if job.crisis and not job.emergency_sent:
                    await asyncio.wait({running}, timeout=self.crisis_within)
                    if not running.done():
                        await self.send_emergency(adapter, job)
                left = max(0.1, self.turn_timeout - (loop.time() - started))
                await asyncio.wait_for(running, left)
            except asyncio.TimeoutError:
                problem = f"no answer within {self.turn_timeout:.0f} s"
            except Exception as error:
                problem = repr(error)[:200]
            finally:
                running.cancel()
            if not problem and failures:
                problem = failures[0]
            if not problem and not collector.messages:
                problem = "the turn answered nothing"
            if not problem:
                return list(collector.messages)
            log.error(
                "%s: turn %d for %s failed: %s",
                inbound.channel, attempt, inbound.external_id, problem,
            )  # fmt: skip
            if job.crisis and not job.emergency_sent:
                # Not after the retries (15 s and more): the emergency reply now.
                await self.send_emergency(adapter, job)
            pause = self.first_pause * 2 ** (attempt - 1)
            if loop.time() + pause >= deadline:
                return None
            await asyncio.sleep(pause)

    async def send_emergency(self, adapter: Adapter, job: Job) -> None:
        """The emergency reply on its own, now (the turn's reply follows without it)."""
        help_text = await job.emergency()
        if help_text and not job.emergency_sent:
            job.emergency_sent = True
            log.info("%s: %s is slow; the emergency reply went first", job.inbound.channel,
                     job.inbound.external_id)  # fmt: skip
            await adapter.deliver(job, [{"text": help_text}], turn=False, part="help")

    # -- after a restart --------------------------------------------------------------

    async def recover(self, adapter: Adapter, on_new_message: OnNewMessage) -> list[Status]:
        """Answer this channel's messages a dead process left unanswered, once each."""
        await self.save_unsaved()  # answered while the database was down: not again
        rows = await asyncio.to_thread(
            contacts.claim_unanswered, self.engine, adapter.channel, self.recover_after,
            self.recover_within,
        )  # fmt: skip
        statuses = []
        for row in rows:
            inbound = adapter.restore(row)
            if inbound is None:
                await asyncio.to_thread(
                    contacts.set_inbound_status, self.engine, row.channel, row.external_id,
                    Status.FAILED.value,
                )  # fmt: skip
                statuses.append(Status.FAILED)
                continue
            log.warning(
                "%s: answering %s after a restart (attempt %d)",
                row.channel, row.external_id, row.attempts,
            )  # fmt: skip
            job = Job(inbound, self.engine, self.safeguarding_contact, recovered=True)
            await job.check()
            if row.attempts > self.max_attempts:
                statuses.append(await self._give_up(adapter, job))
            else:
                statuses.append(await self.run(adapter, job, on_new_message))
        return statuses

    async def save_unsaved(self) -> None:
        """Store the outcomes the database could not take when the messages were answered
        (raises while it still cannot: the sweep then takes nothing up either)."""
        for (channel, external_id), status in list(self._unsaved.items()):
            await asyncio.to_thread(
                contacts.set_inbound_status, self.engine, channel, external_id, status.value
            )
            del self._unsaved[(channel, external_id)]

    async def _give_up(self, adapter: Adapter, job: Job) -> Status:
        try:
            status = await self.failed(adapter, job)
        except Exception:
            log.exception(
                "%s: could not apologise for %s", job.inbound.channel, job.inbound.external_id
            )
            status = Status.FAILED
        await asyncio.to_thread(
            contacts.set_inbound_status, self.engine, job.inbound.channel,
            job.inbound.external_id, status.value,
        )  # fmt: skip
        return status

    async def recover_forever(self, adapter: Adapter, on_new_message: OnNewMessage) -> None:
        """Sweep for unanswered messages now and every ``recover_every`` seconds."""
        while True:
            try:
                await self.recover(adapter, on_new_message)
            except Exception:
                log.exception("%s: the sweep for unanswered messages failed", adapter.channel)
            await asyncio.sleep(self.recover_every)

    def watch(self, adapter: Adapter, on_new_message: OnNewMessage) -> asyncio.Task[None]:
        """Start sweeping for ``adapter``'s unanswered messages (on server start)."""
        task = asyncio.create_task(self.recover_forever(adapter, on_new_message))
        self.sweeps.add(task)
        task.add_done_callback(self.sweeps.discard)
        return task

    async def stop(self, seconds: float = 5.0) -> None:
        """Stop the sweeps; let answers under way finish (for ``seconds``)."""
        for sweep in list(self.sweeps):
            sweep.cancel()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=seconds)

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, sender: str) -> AsyncIterator[None]:
        """Hold the sender's lock, so their messages are answered in the order they came."""
        lock = self._locks.setdefault(sender, asyncio.Lock())
        self._waiting[sender] = self._waiting.get(sender, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[sender] -= 1
            if not self._waiting[sender]:
                del self._waiting[sender], self._locks[sender]
