"""The action server's handles on bot/: settings, the database and the directory catalog.

The catalog (the directory indexed for search) is built once before the action server
answers (``warm_up``, called when the actions package is imported), and rebuilt only
when an import has changed the directory (``directory_state.version``). The check and the
rebuild run in a worker thread: a family's message never waits for them, and searches go
on using the previous catalog until the new one is ready. The crisis reply does not use
the catalog at all: it reads the safeguarding front door directly (``front_door``).
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from sqlalchemy.engine import Engine

from bot.config import Settings, load_settings
from bot.db import shared_engine
from bot.directory import Catalog, Entry
from bot.directory.catalog import load_catalog
from bot.directory.store import directory_version, load_entry
from bot.directory.topics import FRONT_DOOR_KEY

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 2.0  # how often a worker thread asks the database for its version
FRONT_DOOR_TTL_SECONDS = 60.0
_lock = threading.Lock()
_catalog: tuple[int, Catalog] | None = None  # (directory version, catalog)
_checked_at = 0.0
_refreshing = False
_front_door: tuple[float, Entry | None] | None = None


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The application database, migrated to the latest schema on first use."""
    return shared_engine(settings().database_url)


def build_catalog(db: Engine) -> tuple[int, Catalog]:
    """The directory as it is now, indexed for search, with its version (a saved index is
    loaded when another process or an earlier start already built this version)."""
    return load_catalog(db)


def catalog() -> Catalog:
    """The directory indexed for search. Built on first use if ``warm_up`` could not;
    after that it never waits: a changed directory is picked up in the background."""
    global _catalog, _checked_at, _refreshing
    with _lock:
        current = _catalog
    if current is None:
        with _lock:  # one build, however many callers arrive together
            if _catalog is None:
                _catalog = build_catalog(engine())
                _checked_at = time.monotonic()
            return _catalog[1]
    now = time.monotonic()
    with _lock:
        due = not _refreshing and now - _checked_at > CHECK_EVERY_SECONDS
        if due:
            _refreshing, _checked_at = True, now
    if due:
        threading.Thread(target=_refresh, args=(current[0],), daemon=True).start()
    return current[1]


def _refresh(known_version: int) -> None:
    """In a worker thread: rebuild the catalog if the directory changed since it was built."""
    global _catalog, _refreshing
    try:
        db = engine()
        if directory_version(db) != known_version:
            started = time.monotonic()
            fresh = build_catalog(db)
            with _lock:
                _catalog = fresh
            log.info(
                "directory catalog rebuilt for version %s in %.1f s",
                fresh[0],
                time.monotonic() - started,
            )
    except Exception:
        log.exception("could not refresh the directory catalog; keeping the current one")
    finally:
        with _lock:
            _refreshing = False


def front_door() -> Entry | None:
    """The local safeguarding front door, read directly by key (never through the catalog),
    kept for a minute. Raises if the database cannot be read and nothing is kept."""
    global _front_door
    now = time.monotonic()
    with _lock:
        cached = _front_door
    if cached is not None and now - cached[0] < FRONT_DOOR_TTL_SECONDS:
        return cached[1]
    try:
        entry = load_entry(engine(), FRONT_DOOR_KEY)
    except Exception:
        if cached is not None:  # the database is down: the last known front door will do
            return cached[1]
        raise
    with _lock:
        _front_door = (now, entry)
    return entry


def warm_up() -> None:
    """Build the catalog now, before the action server answers its first request. A
    database that is not there yet is logged, not fatal: the catalog is built on first use."""
    global _catalog, _checked_at
    if not settings().directory_warm_up:
        return
    started = time.monotonic()
    try:
        built = build_catalog(engine())
    except Exception:
        log.exception("directory catalog not built at start; it will be built on first use")
        return
    with _lock:
        _catalog, _checked_at = built, time.monotonic()
    log.info(
        "directory catalog ready: %s entries in %.1f s",
        len(built[1].directory.entries),
        time.monotonic() - started,
    )


def reset() -> None:
    """Forget cached handles (tests point the settings at a temporary database)."""
    global _catalog, _front_door, _checked_at
    with _lock:
        _catalog, _front_door, _checked_at = None, None, 0.0
    settings.cache_clear()
    engine.cache_clear()
