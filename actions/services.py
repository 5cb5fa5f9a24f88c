"""The action server's handles on bot/: settings, the database and the directory catalog."""

from __future__ import annotations

import threading
import time
from functools import lru_cache

from sqlalchemy.engine import Engine

from bot.config import Settings, load_settings
from bot.db import shared_engine
from bot.directory import Catalog
from bot.directory.search import default_examples_path, load_examples
from bot.directory.store import load_directory

CATALOG_TTL_SECONDS = 60.0
_lock = threading.Lock()
_catalog: tuple[float, Catalog] | None = None


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The application database, migrated to the latest schema on first use."""
    return shared_engine(settings().database_url)


def catalog() -> Catalog:
    """The directory, read from the database at most once a minute (imports show up soon)."""
    global _catalog
    with _lock:
        now = time.monotonic()
        if _catalog is None or now - _catalog[0] > CATALOG_TTL_SECONDS:
            examples = load_examples(default_examples_path())
            _catalog = (now, Catalog(load_directory(engine()), examples=examples))
        return _catalog[1]


def reset() -> None:
    """Forget cached handles (tests point the settings at a temporary database)."""
    global _catalog
    with _lock:
        _catalog = None
    settings.cache_clear()
    engine.cache_clear()
