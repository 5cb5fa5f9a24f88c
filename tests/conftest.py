"""Shared fixtures: a temporary migrated database and the sample directory."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.config import PROJECT_ROOT
from bot.db import make_engine, upgrade
from bot.directory import Directory, load_file
from bot.directory.store import save_directory
from tests.databases import any_engine  # noqa: F401  (a fixture: SQLite, then PostgreSQL)

# Importing the actions package builds the directory catalog for the action server; in
# tests each one points the actions at its own database first (servers started by tests
# still warm up: scripts/servers.py sets it for them).
os.environ.setdefault("DIRECTORY_WARM_UP", "0")


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The classifier and saved catalogs of a test run go to a temporary folder."""
    previous = os.environ.get("CACHE_DIR")
    os.environ["CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        del os.environ["CACHE_DIR"]
    else:
        os.environ["CACHE_DIR"] = previous


SAMPLE_DIRECTORY = PROJECT_ROOT / "data" / "directory" / "telford_wrekin.yml"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def sample_directory() -> Directory:
    return load_file(SAMPLE_DIRECTORY)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty application database with every migration applied."""
    db = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def loaded_engine(engine: Engine, sample_directory: Directory) -> Engine:
    """The application database with the sample directory imported."""
    save_directory(engine, sample_directory)
    return engine


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
