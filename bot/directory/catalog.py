"""The catalog (the directory indexed for search) as every process gets it.

Building the index for 10,000 entries takes a second or two; loading a saved one takes a
fraction of that. So the first process to need the catalog for a directory version builds
it and saves it under ``var/cache/directory/`` (named by the database and the version);
every other process, and every restart, loads that file. The need classifier is saved
apart (``bot.directory.classifier``), as it depends on the examples, not the directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.directory.classifier import default_cache_dir, load_examples, trained_classifier
from bot.directory.models import DirectoryStateRow
from bot.directory.search import Catalog, default_examples_path
from bot.directory.store import load_indexed

log = logging.getLogger(__name__)

FORMAT = 1  # raise when the Catalog's inside changes: old files are then ignored
STATE = DirectoryStateRow.__table__
KEEP_FILES = 3  # saved catalogs kept per database (older versions are removed)


def _state(engine: Engine) -> tuple[int, str]:
    with engine.connect() as connection:
        row = connection.execute(
            select(STATE.c.version, STATE.c.changed_at).where(STATE.c.id == 1)
        ).first()
    return (int(row.version), str(row.changed_at)) if row is not None else (0, "")


def load_catalog(
    engine: Engine, cache_dir: Path | None = None, examples_path: Path | None = None
) -> tuple[int, Catalog]:
    """The catalog of the directory in ``engine`` as it is now, and its version."""
    folder = cache_dir or default_cache_dir()
    version, changed_at = _state(engine)
    database = hashlib.sha256(str(engine.url).encode()).hexdigest()[:12]
    stamp = hashlib.sha256(f"{FORMAT}|{version}|{changed_at}".encode()).hexdigest()[:12]
    path = folder / f"catalog-{database}-{version}-{stamp}.pickle"
    examples = load_examples(examples_path or default_examples_path())
    catalog = _read(path)
    if catalog is None:
        directory, terms = load_indexed(engine)
        catalog = Catalog(directory, examples=examples, terms=terms, cache_dir=folder)
        _write(path, catalog)
        _tidy(folder, f"catalog-{database}-", keep=path)
    else:
        catalog.classifier = trained_classifier(examples, catalog.directory.needs, folder)
    return version, catalog


def _read(path: Path) -> Catalog | None:
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            loaded = pickle.load(handle)  # noqa: S301 (our own cache file, see _write)
    except Exception:  # noqa: BLE001 (damaged or from other code: build again)
        log.warning("ignoring an unreadable catalog cache file %s", path)
        return None
    return loaded if isinstance(loaded, Catalog) else None


def _write(path: Path, catalog: Catalog) -> None:
    """Save atomically, so another process never reads half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(catalog, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
    except OSError as exc:
        log.warning("could not save the catalog cache at %s: %s", path, exc)


def _tidy(folder: Path, prefix: str, keep: Path) -> None:
    """Remove all but the newest few saved catalogs of one database."""
    files = sorted(folder.glob(f"{prefix}*.pickle"), key=lambda p: p.stat().st_mtime)
    for old in files[:-KEEP_FILES]:
        if old != keep:
            old.unlink(missing_ok=True)
