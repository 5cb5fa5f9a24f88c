"""The outbox worker: a process of its own that delivers every channel's messages.

``python -m bot outbox run`` (started by ``make run`` beside the Rasa and action servers)
delivers what is due every ``OUTBOX_POLL_SECONDS``, then tells operations about anything
that needs them. SIGINT or SIGTERM lets the message being sent finish, then stops.
``python -m bot outbox deliver`` does one round, for cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Mapping

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.notify.outbox import AnySender, DeliveryReport, deliver_due, raise_alerts

log = logging.getLogger(__name__)
ERROR_PAUSE = 5.0
STILL_FAILING_EVERY = 60.0  # seconds between log lines while the same error goes on


async def one_round(
    engine: Engine,
    senders: Mapping[str, AnySender],
    alert_to: str,
    stop: asyncio.Event | None = None,
) -> DeliveryReport:
    """Deliver what is due, then raise alerts for what needs staff."""
    report = await deliver_due(engine, senders, stop=stop)
    raise_alerts(engine, alert_to)
    return report


async def close_senders(senders: Mapping[str, AnySender]) -> None:
    for sender in senders.values():
        close = getattr(sender, "close", None)
        if close is not None:
            try:
                await close()
            except Exception:
                log.exception("outbox: could not close a sender cleanly")


class Failing:
    """What the log says while rounds keep failing (the database is down, say): the first
    failure with its traceback, then one line a minute while the same error goes on, and a
    line when rounds work again. Rounds are still tried every ``ERROR_PAUSE`` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.rounds = 0
        self.error = ""
        self.noted = 0.0

    def failed(self, error: Exception) -> None:
        self.rounds += 1
        now, error_text = self.clock(), repr(error)[:200]
        if error_text != self.error:
            self.error, self.noted = error_text, now
            log.exception("outbox worker: a delivery round failed; trying again shortly")
        elif now - self.noted >= STILL_FAILING_EVERY:
            self.noted = now
            log.warning("outbox worker: rounds still failing (%d so far): %s",
                        self.rounds, error_text)  # fmt: skip

    def recovered(self) -> None:
        if self.rounds:
            log.info("outbox worker: delivering again after %d failed rounds", self.rounds)
        self.rounds, self.error = 0, ""


async def run(
    engine: Engine, settings: Settings, senders: Mapping[str, AnySender], stop: asyncio.Event
) -> None:
    """Deliver until ``stop`` is set; a failing round (database down) is retried."""
    log.info("outbox worker: started (every %.1f s)", settings.outbox_poll_seconds)
    failing = Failing()
    while not stop.is_set():
        pause = settings.outbox_poll_seconds
        try:
            report = await one_round(engine, senders, settings.operations_contact, stop)
            failing.recovered()
            if report != DeliveryReport():
                log.info("outbox worker: %s", report)
            if report.sent + report.retrying + report.dead + report.suppressed >= 50:
                pause = 0  # a full round: there is more waiting
        except Exception as error:
            failing.failed(error)
            pause = ERROR_PAUSE
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause or 0.01)
    await close_senders(senders)
    log.info("outbox worker: stopped")


def main(settings: Settings) -> int:
    """Run the worker in this process until SIGINT or SIGTERM."""
    from bot.db import shared_engine
    from bot.notify.registry import build_senders

    engine = shared_engine(settings.database_url)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run(engine, settings, build_senders(settings), stop)

    asyncio.run(serve())
    return 0
