"""Time the admission of inbound messages on its own: the pipeline's ``admit`` (store the
contact, the time they wrote, the message once, the count this minute; the crisis check
runs after, in the answering task, and is timed on its own),
with a stub turn in place of Rasa, on a SQLite file or PostgreSQL. No servers, no HTTP.

Prints, for one database:
  - one arrival on its own (a new sender, a known one, a repeated MessageSid): statements,
    transactions and time;
  - a burst: ``--burst`` arrivals at once from as many senders, nothing answered;
  - conversations: ``--conversations`` at once, ``--messages`` each, every message answered
    by the real SMS adapter (standing, the reply into the outbox, the final status) with a
    stub turn of ``--turn`` seconds (2 s: about the pipeline bench's pace, under 50 messages
    a second; 0.1 s: as fast as admission allows), the next message once the answer is
    stored; a reader polls the inbound and outbox tables as the pipeline bench's watcher.
For each load: admit p50 / p95 / max, split into the wait for a worker thread, the
database, the crisis check (each text is new: the check caches by text) and the way back.

Usage: python scripts/bench_admit.py [--database-url postgresql+psycopg2://...]
       [--burst 100] [--conversations 100] [--messages 5] [--turn 2 0.1] [--repeat-texts]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import contacts  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.db import make_engine, upgrade  # noqa: E402
from bot.privacy import pseudonymise  # noqa: E402
from channels import pipeline as pipeline_module  # noqa: E402
from channels.pipeline import Inbound  # noqa: E402
from channels.sms import SmsInput  # noqa: E402

KEY = "bench-pseudonym-key"
TEXTS = ("how do i get an ehcp", "who helps with school transport", "thanks", "hi", "1")
sids = (f"SM{n:032x}" for n in itertools.count(int(time.time()) % 100_000 * 1_000_000))
phones = (f"+4477{int(time.time()) % 1000:03d}{n:05d}" for n in itertools.count(1))


class Counter:
    """Statements and transactions on an engine, per thread (events of SQLAlchemy)."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self.local = threading.local()
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._commit)
        sa.event.listen(engine, "rollback", self._rollback)

    def _get(self) -> dict[str, int]:
        if not hasattr(self.local, "counts"):
            self.local.counts = {"statements": 0, "commits": 0, "rollbacks": 0}
        counts: dict[str, int] = self.local.counts
        return counts

    def _statement(self, *_args: Any) -> None:
        self._get()["statements"] += 1

    def _commit(self, *_args: Any) -> None:
        self._get()["commits"] += 1

    def _rollback(self, *_args: Any) -> None:
        self._get()["rollbacks"] += 1

    @contextmanager
    def measure(self) -> Iterator[dict[str, int]]:
        before = dict(self._get())
        seen: dict[str, int] = {}
        yield seen
        seen.update({k: v - before[k] for k, v in self._get().items()})


CALLED_AT: ContextVar[float] = ContextVar("called_at", default=0.0)  # copied into to_thread


@dataclasses.dataclass
class Timing:
    total: list[float] = dataclasses.field(default_factory=list)
    queued: list[float] = dataclasses.field(default_factory=list)
    back: list[float] = dataclasses.field(default_factory=list)
    database: list[float] = dataclasses.field(default_factory=list)
    crisis: list[float] = dataclasses.field(default_factory=list)


class Timed:
    """Wraps the pipeline's two calls inside ``admit`` to split its time."""

    def __init__(self) -> None:
        self.ended: dict[str, float] = {}
        self.timing = Timing()
        self._admit = contacts.admit
        self._crisis = pipeline_module.is_crisis

    def install(self) -> None:
        original_admit, original_crisis = self._admit, self._crisis

        def admit(*args: Any, **kwargs: Any) -> contacts.Arrival:
            began = time.perf_counter()
            self.timing.queued.append(began - CALLED_AT.get())
            try:
                return original_admit(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                self.timing.database.append(ended - began)
                self.ended[args[2]] = ended  # its thread's last step (args[2]: external id)

        def is_crisis(inbound: Inbound) -> bool:
            began = time.perf_counter()
            try:
                return original_crisis(inbound)
            finally:
                self.timing.crisis.append(time.perf_counter() - began)

        pipeline_module.contacts.admit = admit
        pipeline_module.is_crisis = is_crisis

    def note(self, began: float, external_id: str) -> None:
        """One admit returned: its whole time, and the time from its thread's end to now
        (the store is the last thing its thread does)."""
        now = time.perf_counter()
        self.timing.total.append(now - began)
        self.timing.back.append(now - self.ended.pop(external_id))

    def uninstall(self) -> None:
        pipeline_module.contacts.admit = self._admit
        pipeline_module.is_crisis = self._crisis


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return (
        f"{statistics.median(ordered) * 1000:6.1f} / {p95 * 1000:6.1f} / "
        f"{ordered[-1] * 1000:6.1f} ms"
    )


serials = itertools.count(1)
UNIQUE = [True]  # --repeat-texts: False


def inbound_for(phone: str, text: str, sid: str | None = None) -> Inbound:
    """A message from ``phone``; its text made unique (the crisis check caches by text,
    and families do not all type the same words) unless ``--repeat-texts``."""
    words = f"{text} ({next(serials)})" if UNIQUE[0] else text
    return Inbound("sms", sid or next(sids), pseudonymise(KEY, "sms", phone), phone, words)


async def stub_turn(message: UserMessage, delay: float) -> None:
    await asyncio.sleep(delay)
    await message.output_channel.send_text_message(message.sender_id, f"You said: {message.text}")


def adapter_for(engine: sa.engine.Engine) -> SmsInput:
    settings = dataclasses.replace(
        load_settings(), database_url=str(engine.url), pseudonym_key=KEY,
        twilio_auth_token="bench-only",  # noqa: S106  (nothing is sent: no account sid)
        twilio_account_sid="", safeguarding_contact="",
    )  # fmt: skip
    made = SmsInput(settings)
    made.pipeline._engine = lambda: engine  # the engine this script made and counts
    return made


def single(engine: sa.engine.Engine, counter: Counter) -> None:
    """One arrival at a time: what one costs, in statements and transactions."""
    phone = next(phones)
    rows: list[tuple[str, dict[str, int], float, str, contacts.Arrival]] = []
    for label, sid in (("new sender", None), ("known sender", None), ("same MessageSid", "x")):
        inbound = inbound_for(phone, "how do i get an ehcp", sid)
        if sid == "x":
            inbound = dataclasses.replace(inbound, external_id=rows[-1][3])
        began = time.perf_counter()
        with counter.measure() as seen:
            arrival = contacts.admit(
                engine, inbound.channel, inbound.external_id, inbound.sender, inbound.address,
                inbound.stored_text, inbound.kind.value,
            )  # fmt: skip
        rows.append((label, seen, time.perf_counter() - began, inbound.external_id, arrival))
    for label, seen, took, _sid, arrival in rows:
        print(
            f"  one arrival, {label:15}: {seen['statements']} statements, "
            f"{seen['commits']} commits, {seen['rollbacks']} rollbacks, "
            f"{took * 1000:.1f} ms (new={arrival.new}, recent={arrival.recent})"
        )


async def burst(adapter: SmsInput, count: int, timed: Timed) -> None:
    pipeline = adapter.pipeline
    inbounds = [inbound_for(next(phones), TEXTS[n % len(TEXTS)]) for n in range(count)]

    async def one(inbound: Inbound) -> None:
        began = time.perf_counter()
        CALLED_AT.set(began)
        job = await pipeline.admit(inbound)
        assert job is not None
        timed.note(began, inbound.external_id)

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in inbounds))
    print(f"  burst of {count} at once: all stored in {time.perf_counter() - began:.2f} s")


async def conversations(
    adapter: SmsInput, count: int, messages: int, turn: float, timed: Timed
) -> None:
    pipeline = adapter.pipeline

    async def on_new_message(message: UserMessage) -> None:
        await stub_turn(message, turn)

    async def talk(phone: str) -> None:
        for n in range(messages):
            inbound = inbound_for(phone, TEXTS[n % len(TEXTS)])
            began = time.perf_counter()
            CALLED_AT.set(began)
            job = await pipeline.admit(inbound)
            assert job is not None
            timed.note(began, inbound.external_id)
            status = await pipeline.start(adapter, job, on_new_message)
            assert status.value in ("queued", "replied"), status

    began = time.perf_counter()
    await asyncio.gather(*(talk(next(phones)) for _ in range(count)))
    took = time.perf_counter() - began
    print(
        f"  {count} conversations x {messages} at once (turn {turn:g} s): "
        f"{count * messages} messages in {took:.2f} s ({count * messages / took:.0f}/s)"
    )


class Reader:
    """The pipeline bench's watcher: the inbound and outbox tables every 0.3 s."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.stop = threading.Event()
        self.failed = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with self.engine.connect() as db:
                    db.execute(sa.text("select channel, external_id, status from inbound_messages"))
                    db.execute(sa.text("select dedupe_key, status from outbox"))
            except Exception:
                self.failed += 1
            self.stop.wait(0.3)

    def __enter__(self) -> Reader:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.engine.dispose()


def report(label: str, timing: Timing) -> None:
    print(f"    admit          p50 / p95 / max: {ms(timing.total)}   ({label})")
    print(f"    queued         p50 / p95 / max: {ms(timing.queued)}   (for a worker thread)")
    print(f"    database       p50 / p95 / max: {ms(timing.database)}")
    print(f"    crisis check   p50 / p95 / max: {ms(timing.crisis)}")
    print(f"    back in loop   p50 / p95 / max: {ms(timing.back)}   (thread done to admit done)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument(
        "--turn", type=float, nargs="+", default=[2.0, 0.1],
        help="seconds the stub turn takes; one conversations load for each",
    )  # fmt: skip
    parser.add_argument(
        "--repeat-texts", action="store_true",
        help="five texts over and over, as the pipeline bench sends: the crisis check's "
        "cache answers, so what is left is the database and the threads",
    )  # fmt: skip
    args = parser.parse_args()
    UNIQUE[0] = not args.repeat_texts
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite:///{Path(workdir) / 'app.db'}"
        engine = make_engine(url)
        upgrade(engine)
        counter = Counter(engine)
        with engine.connect() as db:
            mode = (
                db.exec_driver_sql("pragma journal_mode").scalar()
                if engine.dialect.name == "sqlite"
                else "-"
            )
        load = os.getloadavg()
        texts = "the same five texts" if args.repeat_texts else "every text new"
        print(
            f"{engine.dialect.name} ({url.split('@')[-1]}), journal mode {mode}, {texts}, "
            f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        from bot.safety import check_message

        check_message("hello")  # the crisis model loaded before anything is timed
        single(engine, counter)
        adapter = adapter_for(engine)
        timed = Timed()
        timed.install()
        try:
            with Reader(url):
                asyncio.run(burst(adapter, args.burst, timed))
                report("burst", timed.timing)
                for turn in args.turn:
                    timed.timing = Timing()
                    asyncio.run(
                        conversations(adapter, args.conversations, args.messages, turn, timed)
                    )
                    report(f"conversations, turn {turn:g} s", timed.timing)
        finally:
            timed.uninstall()
        print(f"  load average at the end {os.getloadavg()[0]:.2f}")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
