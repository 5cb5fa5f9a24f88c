"""Opening times from Open Referral schedules, written the way people read them.

The ``hours`` text is always in one form, so it reads well and can be parsed back:
days (``Mon``, ``Mon-Fri``, ``Mon, Wed``), a space, then times (``9am-5pm``,
``9:30am-12pm``), several groups joined by ``"; "``: ``"Mon-Fri 9am-5pm; Sat 10am-1pm"``.
Monthly rules read ``"1st Mon of the month 10am-12pm"``; every other week adds
``"(every 2 weeks)"``. A schedule with no days or times gives its own ``description``.

Days can come as names (``Monday``, ``mon``), RFC 5545 codes in ``byday`` (``MO,TU``,
``1MO`` for the first Monday) or whole numbers in ``weekday``. A number is read as ISO
8601 does (1 = Monday ... 7 = Sunday), and 0 as Sunday (some systems count from 0 on a
Sunday). Times can be ``09:30``, ``09:30:00``, ``09:30:00+01:00`` or a whole ISO date and
time (``2023-03-17T09:30:00Z``, as the DfE Family Hubs API writes them): only the clock
time is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CODES = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_NAMES = (
    {name.lower(): i for i, name in enumerate(DAYS)}
    | {
        full: i
        for i, full in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    }
    | {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
)
_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", -1: "last"}
_TIME = re.compile(r"(?:T|\s|^)(\d{1,2}):?(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_BYDAY_PART = re.compile(r"^([+-]?\d)?([A-Z]{2})$")


class ScheduleError(ValueError):
    """A schedule value that cannot be read; the message names it."""


def weekday(value: Any) -> int:
    """A day as 0 (Monday) to 6 (Sunday), from a name, a code or an ISO number."""
    if isinstance(value, bool):
        raise ScheduleError(f"weekday {value!r} is not a day")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(value)
        if number == 0:
            return 6
        if 1 <= number <= 7:
            return number - 1
        raise ScheduleError(f"weekday {value!r} is not a day (use 1 for Monday to 7 for Sunday)")
    text = str(value or "").strip()
    if text.upper() in _CODES:
        return _CODES[text.upper()]
    if text.lower() in _NAMES:
        return _NAMES[text.lower()]
    raise ScheduleError(f"weekday {value!r} is not a day")


def clock(value: Any) -> tuple[int, int]:
    """(hours, minutes) from ``09:30``, ``09:30:00``, ``0930`` or an ISO date and time."""
    text = str(value or "").strip()
    found = _TIME.search(text)
    if not found:
        raise ScheduleError(f"time {value!r} is not a time of day")
    hours, minutes = int(found.group(1)), int(found.group(2))
    if hours > 24 or minutes > 59:
        raise ScheduleError(f"time {value!r} is not a time of day")
    return hours, minutes


def spoken_time(hours: int, minutes: int) -> str:
    """``9am``, ``9:30am``, ``12pm``, ``5:15pm``; midnight is ``12am``."""
    suffix = "am" if hours % 24 < 12 else "pm"
    shown = hours % 12 or 12
    return f"{shown}:{minutes:02d}{suffix}" if minutes else f"{shown}{suffix}"


def day_list(days: Iterable[int]) -> str:
    """``Mon-Fri``, ``Mon, Wed``, ``Mon-Wed, Fri``: runs of three or more days are joined."""
    ordered = sorted(set(days))
    groups: list[list[int]] = []
    for day in ordered:
        if groups and day == groups[-1][-1] + 1:
            groups[-1].append(day)
        else:
            groups.append([day])
    parts = []
    for group in groups:
        if len(group) >= 3:
            parts.append(f"{DAYS[group[0]]}-{DAYS[group[-1]]}")
        else:
            parts.extend(DAYS[day] for day in group)
    return ", ".join(parts)


def _days_of(slot: Mapping[str, Any]) -> tuple[list[int], str]:
    """The weekdays of a schedule and, for a monthly one, the prefix ("1st Mon of the month")."""
    byday = str(slot.get("byday") or slot.get("by_day") or "").replace(" ", "").upper()
    if byday:
        days, monthly = [], []
        for part in byday.split(","):
            found = _BYDAY_PART.match(part)
            if not found or found.group(2) not in _CODES:
                raise ScheduleError(f"byday {slot.get('byday')!r} is not a list of days")
            if found.group(1):
                nth = int(found.group(1))
                monthly.append(f"{_ORDINALS.get(nth, f'{nth}th')} {DAYS[_CODES[found.group(2)]]}")
            else:
                days.append(_CODES[found.group(2)])
        if monthly:
            return [], " and ".join(monthly) + " of the month"
        return days, ""
    if slot.get("weekday") not in (None, ""):
        return [weekday(slot.get("weekday"))], ""
    return [], ""


def render_hours(schedules: Iterable[Mapping[str, Any]]) -> tuple[str | None, list[str]]:
    """The ``hours`` text for a service's schedules, and a note for each one not understood."""
    grouped: dict[tuple[str, str], list[int]] = {}
    extra: list[str] = []
    notes: list[str] = []
    for number, slot in enumerate(schedules):
        if not isinstance(slot, Mapping):
            notes.append(f"schedule {number + 1} is not an object")
            continue
        try:
            days, prefix = _days_of(slot)
            times = ""
            if slot.get("opens_at") not in (None, "") and slot.get("closes_at") not in (None, ""):
                opens, closes = clock(slot["opens_at"]), clock(slot["closes_at"])
                times = f"{spoken_time(*opens)}-{spoken_time(*closes)}"
        except ScheduleError as exc:
            notes.append(str(exc))
            continue
        interval = _interval(slot)
        every = f" (every {interval} weeks)" if interval > 1 else ""
        if prefix:
            extra.append(f"{prefix} {times}".strip() + every)
        elif days:
            grouped.setdefault((times, every), []).extend(days)
        elif times:
            extra.append(f"Daily {times}{every}")
        elif slot.get("description"):
            extra.append(" ".join(str(slot["description"]).split()))
    ordered = sorted(grouped.items(), key=lambda item: min(item[1]))
    parts = [f"{day_list(days)} {times}".strip() + every for (times, every), days in ordered]
    parts.extend(part for part in extra if part not in parts)
    return ("; ".join(parts) or None), notes


def _interval(slot: Mapping[str, Any]) -> int:
    try:
        interval = int(float(slot.get("interval") or 1))
    except (TypeError, ValueError):
        return 1
    freq = str(slot.get("freq") or "WEEKLY").upper()
    return interval if freq == "WEEKLY" and interval > 1 else 1
