"""The publish report for the Local Offer team: what was written, which entries have not
been checked for six months, and which families said are wrong since they were checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.directory.records import Directory, Entry
from bot.feedback.store import FeedbackRow
from bot.publish.content import checked, is_stale, long_date
from bot.publish.corrections import THEME

QUOTE_CHARS = 80


@dataclass(frozen=True)
class WrongReport:
    """What families said is wrong about one entry (or about no entry in particular)."""

    key: str
    name: str
    count: int
    latest: date
    said: str


def stale_entries(directory: Directory, today: date) -> list[Entry]:
    """Entries not checked for six months (or never), the longest unchecked first."""
    stale = [e for e in directory.entries if is_stale(e, today)]
    return sorted(stale, key=lambda e: (e.last_checked or date.min, e.key))


def _day(moment: datetime | None) -> date:
    return moment.date() if moment is not None else date.min


def wrong_reports(engine: Engine, directory: Directory) -> list[WrongReport]:
    """Families' "this is wrong" reports about each entry since it was last checked."""
    with session_scope(engine) as session:
        rows = [
            (str(row.service_key), _day(row.created_at), str(row.text))
            for row in session.scalars(select(FeedbackRow).order_by(FeedbackRow.id))
            if THEME in (row.themes or [])
        ]
    found: dict[str, list[tuple[date, str]]] = {}
    for key, day, text in rows:
        entry = directory.entry(key)
        if entry is not None and entry.last_checked is not None and day < entry.last_checked:
            continue  # checked again since: already dealt with
        found.setdefault(key, []).append((day, text))
    reports = []
    for key, said in found.items():
        entry = directory.entry(key)
        latest_day, latest_text = said[-1]  # rows come in the order they were kept
        reports.append(
            WrongReport(key, entry.name if entry else "no service named", len(said),
                        latest_day, latest_text[:QUOTE_CHARS])
        )  # fmt: skip
    return sorted(reports, key=lambda r: (-r.count, r.key))


def report_text(
    directory: Directory,
    today: date,
    written: Sequence[str],
    wrong: Sequence[WrongReport],
) -> str:
    """The report as plain text, printed and written to ``report.txt``."""
    stale = stale_entries(directory, today)
    lines = [
        f"Who's Who publication report, {long_date(today)}",
        f"{len(directory.entries)} entries."
        + (" Sample data: the contacts are made up." if directory.sample_data else ""),
        "",
        "Written:",
        *(f"  {line}" for line in written),
        "",
        f"For the Local Offer team: not checked for 6 months ({len(stale)}):",
    ]
    for entry in stale:
        age = f", {(today - entry.last_checked).days} days ago" if entry.last_checked else ""
        lines.append(f"  {entry.key:28} {entry.name}: last checked {checked(entry)}{age}")
    if not stale:
        lines.append("  none")
    lines += ["", f"Families said these details are wrong, since last checked ({len(wrong)}):"]
    for report in wrong:
        times = "1 report" if report.count == 1 else f"{report.count} reports"
        lines.append(
            f"  {report.key:28} {report.name}: {times}, latest {long_date(report.latest)}: "
            f'"{report.said}"'
        )
    if not wrong:
        lines.append("  none")
    return "\n".join(lines) + "\n"
