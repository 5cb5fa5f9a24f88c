"""Opening hours: the directory's ``hours`` text read into opening times, and "is it open
now?" answered in UK time, with England and Wales bank holidays.

Pure functions except :func:`load_bank_holidays`, which reads ``data/bank_holidays.yml``
(GOV.UK's feed, copied; never fetched at run time). Understood: "Monday to Friday, 9am to
5pm", "Mon-Fri 9am-5pm", "Tuesday 09:30 to 11:30; Thursday 1pm to 3pm", "weekdays 8:30 to
4:30", "24 hours", with "term time" and "out of hours team at other times" noted. Anything
else ("School hours in term time") is kept as words: the answer then quotes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

UK = ZoneInfo("Europe/London")
BANK_HOLIDAYS_FILE = Path(__file__).resolve().parents[2] / "data" / "bank_holidays.yml"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS = {
    **{d: i for i, d in enumerate(DAYS)},
    **{d[:3]: i for i, d in enumerate(DAYS)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}  # fmt: skip
_DAY = r"(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)[a-z]*"
_DAY_RANGE = re.compile(rf"\b({_DAY})\s*(?:to|-|–|until|till)\s*({_DAY})\b")
_ONE_DAY = re.compile(rf"\b({_DAY})\b")
_CLOCK = r"(\d{1,2})(?:[:.](\d{2}))?(?::\d{2})?\s*(am|pm)?|noon|midday"
_TIME_RANGE = re.compile(rf"(?:{_CLOCK})\s*(?:to|-|–|until|till)\s*(?:{_CLOCK})")
LOOK_AHEAD_DAYS = 14


@dataclass(frozen=True)
class Opening:
    """Open on ``day`` (0 Monday) from ``opens`` to ``closes``."""

    day: int
    opens: time
    closes: time


@dataclass(frozen=True)
class Hours:
    """A service's opening times as far as its text says them."""

    text: str
    openings: tuple[Opening, ...]
    term_time_only: bool = False
    out_of_hours: bool = False

    @property
    def known(self) -> bool:
        return bool(self.openings)


def _clock(hour: str | None, minute: str | None, half: str | None, word: str) -> time | None:
    if word in ("noon", "midday"):
        return time(12, 0)
    if hour is None:
        return None
    value = int(hour)
    if half == "pm" and value < 12:
        value += 12
    if half == "am" and value == 12:
        value = 0
    return time(value, int(minute or 0)) if 0 <= value < 24 else None


def _times(part: str) -> tuple[time, time] | None:
    """The first time range in ``part``; "9 to 5" reads as 9am to 5pm."""
    found = _TIME_RANGE.search(part)
    if found is None:
        return None
    h1, m1, a1, h2, m2, a2 = found.groups()
    words = [w for w in re.findall(r"noon|midday", found.group(0))]
    first_word = words[0] if words and found.group(0).startswith(words[0]) else ""
    last_word = words[-1] if words and found.group(0).endswith(words[-1]) else ""
    if a1 is None and a2 == "pm" and h1 and int(h1) < 12 and (not h2 or int(h1) < int(h2)):
        a1 = "pm"  # "1 to 3pm"
    if a1 is None and h1 and int(h1) < 8:
        a1 = "pm"
    if a2 is None and h2 and (int(h2) < 8 or (h1 and int(h2) <= int(h1) and int(h2) < 12)):
        a2 = "pm"  # "9 to 5", "8:30 to 4:30"
    opens, closes = _clock(h1, m1, a1, first_word), _clock(h2, m2, a2, last_word)
    if opens is None or closes is None or closes <= opens:
        return None
    return opens, closes


def _days(part: str) -> list[int]:
    if re.search(r"\b(?:every day|daily|7 days|seven days|24/7)\b", part):
        return list(range(7))
    if re.search(r"\bweekdays?\b", part):
        return list(range(5))
    if re.search(r"\bweekends?\b", part):
        return [5, 6]
    days: list[int] = []
    for start, end in _DAY_RANGE.findall(part):
        a, b = _DAY_WORDS[start[:3]], _DAY_WORDS[end[:3]]
        days += list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    rest = _DAY_RANGE.sub(" ", part)
    days += [_DAY_WORDS[d[:3]] for d in _ONE_DAY.findall(rest)]
    return sorted(set(days))


def parse_hours(text: str | None) -> Hours:
    """Read a directory entry's ``hours`` text; unknown parts leave ``openings`` empty."""
    raw = (text or "").strip()
    lower = raw.lower()
    openings: list[Opening] = []
    if re.search(r"\b(?:24 hours|24/7|24 hrs)\b", lower):
        whole = (time(0, 0), time(23, 59))
        openings = [Opening(d, *whole) for d in _days(lower) or range(7)]
    else:
        for part in re.split(r"[;\n]", lower):
            days, times = _days(part), _times(part)
            if days and times:
                openings += [Opening(d, *times) for d in days]
    return Hours(
        text=raw,
        openings=tuple(openings),
        term_time_only="term time" in lower or "term-time" in lower,
        out_of_hours="out of hours" in lower or "out-of-hours" in lower,
    )


@lru_cache(maxsize=4)
def load_bank_holidays(path: Path = BANK_HOLIDAYS_FILE) -> dict[date, str]:
    """England and Wales bank holidays: date -> title."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        (e["date"] if isinstance(e["date"], date) else date.fromisoformat(str(e["date"]))): str(
            e["title"]
        )
        for e in data.get("events") or []
    }


def _open_on(hours: Hours, day: date, holidays: dict[date, str]) -> list[Opening]:
    if day in holidays:
        return []
    return [o for o in hours.openings if o.day == day.weekday()]


@dataclass(frozen=True)
class OpenState:
    """Whether a service is open at a moment, and when it closes or next opens."""

    open: bool
    closes: time | None = None
    next_open: datetime | None = None
    holiday: str | None = None


def open_state(hours: Hours, now: datetime, holidays: dict[date, str]) -> OpenState:
    """Open or closed at ``now`` (any time zone; judged in UK time)."""
    local = now.astimezone(UK)
    holiday = holidays.get(local.date())
    for opening in _open_on(hours, local.date(), holidays):
        if opening.opens <= local.time() < opening.closes:
            return OpenState(True, closes=opening.closes, holiday=holiday)
    for ahead in range(LOOK_AHEAD_DAYS):
        day = local.date() + timedelta(days=ahead)
        for opening in sorted(_open_on(hours, day, holidays), key=lambda o: o.opens):
            moment = datetime.combine(day, opening.opens, tzinfo=UK)
            if moment > local:
                return OpenState(False, next_open=moment, holiday=holiday)
    return OpenState(False, holiday=holiday)


def say_time(moment: time) -> str:
    """'9am', '4:30pm', '12 noon'."""
    if moment == time(12, 0):
        return "12 noon"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def say_day(moment: datetime, now: datetime) -> str:
    """'today', 'tomorrow' or 'on Monday' (or 'on Monday 28 December' beyond a week)."""
    days = (moment.date() - now.astimezone(UK).date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    name = DAYS[moment.weekday()].capitalize()
    return f"on {name}" if days < 7 else f"on {name} {moment.day} {moment:%B}"


def open_now_text(name: str, hours_text: str | None, now: datetime) -> str:
    """Easy-read answer to "is it open now?" for one service."""
    hours = parse_hours(hours_text)
    if not hours.known:
        if not hours.text:
            return f"I don't know the opening hours of {name}."
        return f"I can't tell if {name} is open now. Their hours are: {hours.text}."
    state = open_state(hours, now, load_bank_holidays())
    lines: list[str] = []
    if state.open:
        assert state.closes is not None
        lines.append(f"{name} is open now, until {say_time(state.closes)}.")
    else:
        if state.holiday:
            lines.append(f"Today is a bank holiday ({state.holiday}).")
        lines.append(f"{name} is closed now.")
        if state.next_open is not None:
            lines.append(
                f"It opens {say_day(state.next_open, now)} at "
                f"{say_time(state.next_open.time())}."
            )
        if hours.out_of_hours:
            lines.append("Their out of hours team can help at other times.")
    if hours.term_time_only:
        lines.append("It is open in term time only.")
    return " ".join(lines)


def when_text(name: str, hours_text: str | None) -> str:
    """Easy-read answer to "when can I ring them?"."""
    if not hours_text:
        return f"I don't know when {name} is open."
    return f"{name} is open {hours_text.strip().rstrip('.')}. Bank holidays are closed days."
