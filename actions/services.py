"""The action server's handles on bot/: settings, the database and the directory catalog."""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from sqlalchemy.engine import Engine

from bot.config import Settings, load_settings
from bot.db import shared_engine
from bot.directory import Catalog
from bot.directory.search import default_examples_path, load_examples
from bot.directory.store import directory_version, load_directory

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 2.0  # how often the directory's fingerprint is compared
_lock = threading.Lock()
_catalog: tuple[float, tuple[int, int, str], Catalog] | None = None


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The application database, migrated to the latest schema on first use."""
    return shared_engine(settings().database_url)


def catalog() -> Catalog:
    """The directory, rebuilt when its fingerprint changes (checked every two seconds), so an
    import or a staff console edit changes the next answers; if the database is down, the
    last copy keeps answering."""
    global _catalog
    with _lock:
        now = time.monotonic()
        if _catalog is not None and now - _catalog[0] < CHECK_EVERY_SECONDS:
            return _catalog[2]
        try:
            version = directory_version(engine())
        except Exception:
            if _catalog is None:
                raise
            log.exception("directory: database unavailable; answering from the last copy")
            return _catalog[2]
        if _catalog is None or _catalog[1] != version:
            examples = load_examples(default_examples_path())
            _catalog = (now, version, Catalog(load_directory(engine()), examples=examples))
        else:
            _catalog = (now, version, _catalog[2])
        return _catalog[2]


def reset() -> None:
    """Forget cached handles (tests point the settings at a temporary database)."""
    global _catalog
    with _lock:
        _catalog = None
    settings.cache_clear()
    engine.cache_clear()
