"""The Who's Who served live (``/whos-who/`` on the Rasa server): the page from the
database, the search box's answers, and the published booklets and audio files.

No web framework here: the channel turns these answers into HTTP responses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.directory import Catalog, Entry
from bot.directory.catalog import load_catalog
from bot.directory.store import directory_version
from bot.publish import html
from bot.publish.content import Guide, build_guide
from bot.publish.writer import last_updated, said_items
from bot.text import clean_input, normalise

TTL_SECONDS = 60.0
MAX_RESULTS = 10
SEARCH_PATH = "/whos-who/search"
# Published files the site hands out, by suffix, with their content type.
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m3u": "audio/x-mpegurl",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
PRIVATE_FILES = frozenset({"report.txt"})  # for the Local Offer team, not the public
# The pages need no script at all, so none is allowed to run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; media-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
UNAVAILABLE = html.document(
    "The Who's Who cannot be shown right now",
    '<main id="main"><h1>Sorry, the Who\'s Who cannot be shown right now</h1>'
    "<p>Please try again in a few minutes.</p>"
    '<p>If someone is in danger right now, call <a href="tel:999">999</a>.</p></main>',
)


class Site:
    """The live Who's Who: the directory read at most once a minute."""

    def __init__(
        self,
        engine: Engine,
        publish_dir: Path,
        today: Callable[[], date] = date.today,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine, self.publish_dir, self.today, self.clock = engine, publish_dir, today, clock
        self.lock = threading.Lock()
        self._loaded: tuple[float, Guide, Catalog] | None = None
        self._version = -1

    def guide(self) -> tuple[Guide, Catalog]:
        """The guide, read again at most once a minute, and the search index: the shared
        catalog (``bot.directory.catalog``), loaded again only when the directory's version
        has changed (another process may already have built it)."""
        with self.lock:
            now = self.clock()
            if self._loaded is None or now - self._loaded[0] > TTL_SECONDS:
                version = directory_version(self.engine)
                if self._loaded is None or version != self._version:
                    self._version, catalog = load_catalog(self.engine)
                else:
                    catalog = self._loaded[2]
                guide = build_guide(catalog.directory, self.today(), last_updated(self.engine))
                self._loaded = (now, guide, catalog)
            return self._loaded[1], self._loaded[2]

    def index_page(self) -> str:
        return html.index_page(self.guide()[0], SEARCH_PATH)

    def search(self, query: str) -> list[Entry]:
        """Entries for ``query``: the chat's own ranking first, then any whose name,
        easy-read line or keywords hold every word typed."""
        text, _cut = clean_input(query, html.MAX_QUERY)
        words = normalise(text).split()
        if not words:
            return []
        guide, catalog = self.guide()
        found = [m.entry for m in catalog.search(text, limit=MAX_RESULTS)]
        for entry in guide.entries:
            haystack = f" {normalise(' '.join([entry.name, entry.summary, *entry.keywords]))} "
            if entry not in found and all(f" {w}" in haystack for w in words):
                found.append(entry)
        return found[:MAX_RESULTS]

    def search_page(self, query: str) -> str:
        text, _cut = clean_input(query, html.MAX_QUERY)
        return html.search_page(self.guide()[0], text, self.search(text), SEARCH_PATH)

    def you_said_page(self) -> str:
        guide, catalog = self.guide()
        return html.you_said_page(guide, said_items(self.engine, catalog.directory))

    def file(self, name: str) -> tuple[Path, str] | None:
        """A published file (booklet, recording, index) and its type; None if there is none."""
        root = self.publish_dir.resolve()
        path = (root / name).resolve()
        kind = FILE_TYPES.get(path.suffix.lower())
        if kind is None or name in PRIVATE_FILES or not path.is_relative_to(root):
            return None
        return (path, kind) if path.is_file() else None
