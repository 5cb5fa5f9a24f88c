"""Reports for services: counts by service, theme, rating and channel, as CSV, a short
readable summary and a simple SVG bar chart for a monthly meeting."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from bot.feedback.store import FeedbackRow
from bot.text import csv_cell


@dataclass(frozen=True)
class Counts:
    total: int
    by_service: Counter[str]
    by_theme: Counter[str]
    by_rating: Counter[str]
    by_channel: Counter[str]
    by_kind: Counter[str] = field(
        default_factory=Counter
    )  # "feedback" (the form) and "praise" (thanks)


def count(rows: Sequence[FeedbackRow]) -> Counts:
    return Counts(
        total=len(rows),
        by_service=Counter(str(r.service_key) for r in rows),
        by_theme=Counter(theme for r in rows for theme in (r.themes or [])),
        by_rating=Counter(str(r.rating) if r.rating else "none" for r in rows),
        by_channel=Counter(str(r.channel) for r in rows),
        by_kind=Counter(str(r.kind or "feedback") for r in rows),
    )


def to_csv(counts: Counts) -> str:
    """One row per (dimension, value, count); cells a spreadsheet could run are escaped."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["dimension", "value", "count"])
    for dimension, counter in (
        ("service", counts.by_service),
        ("theme", counts.by_theme),
        ("rating", counts.by_rating),
        ("channel", counts.by_channel),
        ("kind", counts.by_kind),
    ):
        for value, number in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            writer.writerow([csv_cell(dimension), csv_cell(value), number])
    return out.getvalue()


def summary(counts: Counts, period: str) -> str:
    """A few plain sentences for the meeting."""
    if counts.total == 0:
        return f"Feedback {period}: none received."
    rated = [int(k) for k, n in counts.by_rating.items() if k != "none" for _ in range(n)]
    average = f"{sum(rated) / len(rated):.1f} out of 5" if rated else "no ratings"
    lines = [
        f"Feedback {period}: {counts.total} pieces. Average rating: {average}.",
        "Most mentioned: "
        + ", ".join(f"{t} ({n})" for t, n in counts.by_theme.most_common(3))
        + "."
        if counts.by_theme
        else "No themes tagged.",
        "Services: " + ", ".join(f"{s} ({n})" for s, n in counts.by_service.most_common(5)) + ".",
        "Channels: " + ", ".join(f"{c} ({n})" for c, n in counts.by_channel.most_common()) + ".",
        f"Thanks and praise for services: {counts.by_kind.get('praise', 0)}.",
    ]
    return "\n".join(lines)


def bar_chart_svg(counter: Counter[str], title: str, width: int = 640) -> str:
    """A horizontal bar chart as SVG text (no plotting library needed)."""
    items = counter.most_common(12)
    bar_height, gap, label_width, top = 22, 8, 200, 40
    height = top + len(items) * (bar_height + gap) + 20
    biggest = max((n for _, n in items), default=1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="10" y="24" font-family="Arial" font-size="18">{escape(title)}</text>',
    ]
    for index, (label, number) in enumerate(items):
        y = top + index * (bar_height + gap)
        length = int((width - label_width - 60) * number / biggest)
        parts += [
            f'<text x="10" y="{y + 16}" font-family="Arial" font-size="14">{escape(label)}</text>',
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
            'fill="#1d70b8"/>',
            f'<text x="{label_width + length + 6}" y="{y + 16}" font-family="Arial" '
            f'font-size="14">{number}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)
