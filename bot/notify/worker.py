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
from collections.abc import Mapping

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.notify.outbox import AnySender, DeliveryReport, deliver_due, raise_alerts

log = logging.getLogger(__name__)
ERROR_PAUSE = 5.0


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


async def run(
    engine: Engine, settings: Settings, senders: Mapping[str, AnySender], stop: asyncio.Event
) -> None:
    """Deliver until ``stop`` is set; a failing round (database down) is retried."""
    log.info("outbox worker: started (every %.1f s)", settings.outbox_poll_seconds)
    while not stop.is_set():
        pause = settings.outbox_poll_seconds
        try:
            report = await one_round(engine, senders, settings.operations_contact, stop)
            if report != DeliveryReport():
                log.info("outbox worker: %s", report)
            if report.sent + report.retrying + report.dead + report.suppressed >= 50:
                pause = 0  # a full round: there is more waiting
        except Exception:
            log.exception("outbox worker: a delivery round failed; trying again shortly")
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
