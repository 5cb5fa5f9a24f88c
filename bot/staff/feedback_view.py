"""Feedback for staff: filters, counts and average ratings per service and theme, ratings
over time as an SVG chart readable without colour, and a CSV export safe to open in a
spreadsheet."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.feedback.store import FeedbackRow
from bot.feedback.you_said import audience, notice_text
from bot.sms import segments, to_gsm7
from bot.speech.text import speech_text
from bot.staff.clock import day_end, day_start, month_of, uk

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None  # included
    service: str | None = None
    channel: str | None = None


def filtered(engine: Engine, filters: Filters) -> list[FeedbackRow]:
    """Feedback matching ``filters`` (dates are UK days), oldest first."""
    with session_scope(engine) as session:
        query = select(FeedbackRow).order_by(FeedbackRow.created_at, FeedbackRow.id)
        if filters.start:  # whole days on a UK calendar
            query = query.where(FeedbackRow.created_at >= day_start(filters.start))
        if filters.end:
            query = query.where(FeedbackRow.created_at < day_end(filters.end))
        if filters.service:
            query = query.where(FeedbackRow.service_key == filters.service)
        if filters.channel:
            query = query.where(FeedbackRow.channel == filters.channel)
        return list(session.scalars(query))


@dataclass(frozen=True)
class Tally:
    """How many pieces of feedback, and the average of those with a rating."""

    label: str
    count: int
    rated: int
    average: float | None

    @property
    def average_words(self) -> str:
        return f"{self.average:.1f}" if self.average is not None else "no ratings"


def _tally(groups: dict[str, list[int | None]]) -> list[Tally]:
    tallies = []
    for label, ratings in groups.items():
        rated = [r for r in ratings if r]
        average = sum(rated) / len(rated) if rated else None
        tallies.append(Tally(label, len(ratings), len(rated), average))
    return sorted(tallies, key=lambda t: (-t.count, t.label))


def by_service(rows: Iterable[FeedbackRow]) -> list[Tally]:
    groups: dict[str, list[int | None]] = defaultdict(list)
    for row in rows:
        groups[str(row.service_key)].append(row.rating)
    return _tally(groups)


def by_theme(rows: Iterable[FeedbackRow]) -> list[Tally]:
    groups: dict[str, list[int | None]] = defaultdict(list)
    for row in rows:
        for theme in row.themes or ["(no theme)"]:
            groups[str(theme)].append(row.rating)
    return _tally(groups)


def by_month(rows: Iterable[FeedbackRow]) -> list[Tally]:
    """One tally per UK calendar month that has feedback, in time order."""
    groups: dict[str, list[int | None]] = defaultdict(list)
    for row in rows:
        groups[month_of(row.created_at)].append(row.rating)
    return sorted(_tally(groups), key=lambda t: t.label)


def ratings_chart_svg(months: Sequence[Tally], title: str, chart_id: str = "ratings") -> str:
    """Average rating per month as bars, each labelled with its value and count, hatched so
    the chart does not rely on colour. ``aria-labelledby`` names a title and description."""
    bar, gap, left, top, plot_height = 56, 24, 48, 48, 200
    width = max(360, left + len(months) * (bar + gap) + gap)
    height = top + plot_height + 64
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="staff-chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">'
        + escape(
            "; ".join(f"{t.label}: average {t.average_words} from {t.count}" for t in months)
            or "No feedback in this period."
        )
        + "</desc>",
        f'<defs><pattern id="{chart_id}-hatch" width="8" height="8" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="8" height="8" fill="#ffffff"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#0b0c0c" stroke-width="3"/>'
        "</pattern></defs>",
        f'<text x="8" y="24" font-family="Arial, sans-serif" font-size="16" '
        f'fill="#0b0c0c">{escape(title)}</text>',
    ]
    for score in range(1, 6):  # the axis: 1 to 5 with labelled grid lines
        y = top + plot_height - plot_height * score / 5
        parts.append(
            f'<line x1="{left}" y1="{y:.0f}" x2="{width - 8}" y2="{y:.0f}" stroke="#505a5f" '
            'stroke-dasharray="2 4"/>'
            f'<text x="{left - 8}" y="{y + 5:.0f}" text-anchor="end" '
            f'font-family="Arial, sans-serif" font-size="14" fill="#0b0c0c">{score}</text>'
        )
    baseline = top + plot_height
    parts.append(
        f'<line x1="{left}" y1="{baseline}" x2="{width - 8}" y2="{baseline}" stroke="#0b0c0c"/>'
    )
    for index, tally in enumerate(months):
        x = left + gap + index * (bar + gap)
        value = tally.average or 0
        bar_height = plot_height * value / 5
        y = baseline - bar_height
        parts.append(
            f'<rect x="{x}" y="{y:.0f}" width="{bar}" height="{bar_height:.0f}" '
            f'fill="url(#{chart_id}-hatch)" stroke="#0b0c0c" stroke-width="2"/>'
            f'<text x="{x + bar / 2:.0f}" y="{y - 6:.0f}" text-anchor="middle" '
            'font-family="Arial, sans-serif" font-size="14" font-weight="bold" '
            f'fill="#0b0c0c">{escape(tally.average_words)}</text>'
            f'<text x="{x + bar / 2:.0f}" y="{baseline + 20}" text-anchor="middle" '
            f'font-family="Arial, sans-serif" font-size="14" fill="#0b0c0c">'
            f"{escape(tally.label)}</text>"
            f'<text x="{x + bar / 2:.0f}" y="{baseline + 40}" text-anchor="middle" '
            f'font-family="Arial, sans-serif" font-size="13" fill="#0b0c0c">'
            f"n={tally.count}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix with a quote)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(rows: Iterable[FeedbackRow]) -> str:
    """One line per piece of feedback; no identities, every cell escaped."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "received (UK time)", "channel", "service", "rating", "themes", "feedback"]
    )
    for row in rows:
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    row.id,
                    f"{uk(row.created_at):%Y-%m-%d %H:%M}",
                    row.channel,
                    row.service_key,
                    row.rating or "",
                    "; ".join(row.themes or []),
                    row.text,
                )
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class NoticePreview:
    """What families would receive for a "You said, we did" item, and how many."""

    sms: str
    sms_segments: int
    spoken: str
    told: int
    unreachable: int


def notice_preview(
    engine: Engine, you_said: str, we_did: str, service: str | None, theme: str | None
) -> NoticePreview:
    text = notice_text(you_said, we_did)
    sms = to_gsm7(text)
    told, unreachable = audience(engine, service, theme)
    return NoticePreview(sms, segments(sms), speech_text(text), told, unreachable)
