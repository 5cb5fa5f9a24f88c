"""``python -m bot directory publish``: write the whole Who's Who from the database.

``DIR/index.html`` (the page), ``DIR/you-said-we-did.html``, ``DIR/whos-who.pdf`` (A4,
also ``whos-who-a4.pdf``) and ``DIR/whos-who-a5.pdf`` (the booklets), ``DIR/audio/`` (one
recording per need group, ``index.html``, ``index.json`` and ``whos-who.m3u``) and
``DIR/report.txt`` for the Local Offer team.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.directory.models import EntryRow
from bot.directory.records import Directory, Entry
from bot.directory.store import load_directory
from bot.feedback.store import latest_items
from bot.feedback.themes import load_themes
from bot.publish import html, phone
from bot.publish.audio import GuidePart, Recording, guide_parts, playlist, render_guide
from bot.publish.booklet import booklet_pdf
from bot.publish.content import Guide, build_guide
from bot.publish.report import WrongReport, report_text, stale_entries, wrong_reports
from bot.speech.cache import SpeechCache
from bot.speech.text import speech_segments

log = logging.getLogger(__name__)
MAX_SAID_ITEMS = 200


class PublishError(Exception):
    """Nothing can be published (for example, the directory is empty)."""


@dataclass
class Publication:
    """What was written, and what the Local Offer team needs to look at."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    recordings: list[Recording] = field(default_factory=list)
    audio_failed: list[tuple[GuidePart, str]] = field(default_factory=list)
    stale: list[Entry] = field(default_factory=list)
    wrong: list[WrongReport] = field(default_factory=list)
    seconds: float = 0.0
    report: str = ""


def last_updated(engine: Engine) -> date | None:
    """The day the directory was last imported (the newest entry update)."""
    with session_scope(engine) as session:
        newest = session.scalar(select(func.max(EntryRow.updated_at)))
    return newest.date() if newest is not None else None


def said_items(engine: Engine, directory: Directory) -> list[html.SaidItem]:
    """The published "You said, we did" items, newest first, each with what it was about."""
    labels = {theme.key: theme.label for theme in load_themes()}
    items = []
    for row in latest_items(engine, MAX_SAID_ITEMS):
        entry = directory.entry(str(row.service_key)) if row.service_key else None
        about = entry.name if entry else labels.get(str(row.theme or ""), "")
        items.append(
            html.SaidItem(row.created_at.date(), str(row.you_said), str(row.we_did), about)
        )
    return items


def _write(path: Path, data: str | bytes, publication: Publication) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    publication.files.append(path)


def write_audio(
    guide: Guide, cache: SpeechCache, folder: Path, publication: Publication, lame: str | None
) -> None:
    """The audio guide in ``folder``: recordings, a page, a JSON index and a playlist."""
    parts = guide_parts(guide)
    recordings, failed = render_guide(cache, parts, folder, lame)
    keep = {r.path.name for r in recordings}
    for old in [*folder.glob("*.mp3"), *folder.glob("*.wav")]:
        if old.name not in keep:  # a topic that is gone, or the other format
            old.unlink()
    for prompt in phone.PROMPTS:  # what the phone line says between the parts
        for piece in speech_segments(prompt):
            cache.render(piece)
    publication.recordings, publication.audio_failed = recordings, failed
    publication.files += [r.path for r in recordings]
    tracks = [
        html.Track(
            r.part.number, r.part.title, r.path.name, r.seconds, r.part.text.replace("\n", " ")
        )
        for r in recordings
    ]
    _write(folder / "whos-who.m3u", playlist(recordings), publication)
    _write(folder / "index.html", html.audio_page(guide, tracks, "whos-who.m3u"), publication)
    index = {
        "title": "Who's Who audio guide",
        "area": guide.area_name,
        "made": guide.made.isoformat(),
        "sample_data": guide.sample_data,
        "parts": [
            {
                "number": r.part.number,
                "need": r.part.key,
                "title": r.part.title,
                "file": r.path.name,
                "seconds": round(r.seconds, 2),
                "engine": r.engine,
                "words": r.part.text,
            }
            for r in recordings
        ],
        "not_made": [{"need": part.key, "reason": reason} for part, reason in failed],
    }
    _write(folder / "index.json", json.dumps(index, indent=2) + "\n", publication)


def publish(
    engine: Engine,
    folder: Path,
    today: date,
    search_url: str | None,
    cache: SpeechCache | None,
    lame: str | None = None,
) -> Publication:
    """Write every form of the Who's Who to ``folder`` (no audio when ``cache`` is None)."""
    started = time.monotonic()
    directory = load_directory(engine)
    if not directory.entries:
        raise PublishError("The directory is empty: import one first (make db).")
    publication = Publication(folder)
    guide = build_guide(directory, made=today, updated=last_updated(engine))
    _write(folder / "index.html", html.index_page(guide, search_url), publication)
    said = html.you_said_page(guide, said_items(engine, directory))
    _write(folder / "you-said-we-did.html", said, publication)
    for size in ("A4", "A5"):
        booklet = booklet_pdf(guide, size)
        publication.pages[size] = booklet.pages
        _write(folder / f"whos-who-{size.lower()}.pdf", booklet.pdf, publication)
        if size == "A4":
            _write(folder / "whos-who.pdf", booklet.pdf, publication)
    if cache is not None:
        write_audio(guide, cache, folder / "audio", publication, lame)
    publication.stale = stale_entries(directory, today)
    publication.wrong = wrong_reports(engine, directory)
    publication.seconds = time.monotonic() - started
    publication.report = report_text(directory, today, _summary(publication), publication.wrong)
    _write(folder / "report.txt", publication.report, publication)
    return publication


def _summary(publication: Publication) -> list[str]:
    """What was written, one line per kind, for the report."""
    lines = [
        "index.html (the page), you-said-we-did.html",
        f"whos-who.pdf and whos-who-a4.pdf (A4, {publication.pages.get('A4', 0)} pages), "
        f"whos-who-a5.pdf (A5, {publication.pages.get('A5', 0)} pages)",
    ]
    if publication.recordings or publication.audio_failed:
        minutes = sum(r.seconds for r in publication.recordings) / 60
        kinds = sorted({r.path.suffix.lstrip(".").upper() for r in publication.recordings})
        engines = sorted({r.engine for r in publication.recordings})
        lines.append(
            f"audio/: {len(publication.recordings)} recordings ({', '.join(kinds) or 'none'}, "
            f"{minutes:.1f} minutes, made with {', '.join(engines) or 'no engine'}), "
            "index.html, index.json, whos-who.m3u"
        )
        for part, reason in publication.audio_failed:
            lines.append(f"  not made: {part.title}: {reason}")
    else:
        lines.append("audio/: not made (--no-audio)")
    lines.append(f"in {publication.seconds:.1f} seconds")
    return lines
