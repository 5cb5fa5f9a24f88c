"""Times for staff: stored in UTC, shown and filtered in UK time.

The database hands timestamps back in different shapes: SQLite as naive UTC, PostgreSQL as
aware times in the server's own ``TimeZone`` setting (which a council's server may set to
anything). Every time the console shows, groups by month or filters by date goes through
here, so the answer is the same on both and never depends on the server's clock zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from bot.directory.hours import UK


def as_utc(moment: datetime) -> datetime:
    """An aware UTC time (a naive one is taken as UTC, as the application stores it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def uk(moment: datetime) -> datetime:
    """The same moment on a UK clock (GMT or BST)."""
    return as_utc(moment).astimezone(UK)


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the UK, in UTC (for comparing stored times)."""
    return datetime.combine(day, time(), tzinfo=UK).astimezone(timezone.utc)


def day_end(day: date) -> datetime:
    """Midnight at the end of ``day`` in the UK (the start of the next), in UTC."""
    return day_start(day + timedelta(days=1))


def month_of(moment: datetime) -> str:
    """'2026-07': the UK calendar month of ``moment``."""
    return f"{uk(moment):%Y-%m}"
