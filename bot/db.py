"""The database: one engine per URL, sessions, and schema migrations (Alembic).

SQLite file by default, PostgreSQL in production (``DATABASE_URL``). Callers hand
the engine to the data layer, so tests can give it a temporary database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base
from sqlalchemy.pool import QueuePool

log = logging.getLogger(__name__)

Base = declarative_base()


def utcnow() -> datetime:
    """Now, in UTC: every timestamp the application stores."""
    return datetime.now(timezone.utc)


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Return an engine for ``url``; creates the folder of a SQLite file if needed.

    A SQLite file's connections are kept in a pool (as SQLAlchemy 2 does), not opened and
    closed for each transaction: the last connection to close checkpoints the write-ahead
    log and deletes it, with an fsync, each time (storing one arrival took about 4 ms so,
    1.2 ms with the pool)."""
    options: dict[str, Any] = {}
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        options = {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}
    # hide_parameters: a failed statement's error (and so the log) never carries the
    # values it wrote: message text, phone numbers, addresses.
    engine = create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """Foreign keys; wait up to 5 s for another writer; write-ahead logging, so readers
    (the outbox worker, a server's status reads) never block a writer and a commit is one
    append to ``<file>-wal``, with ``synchronous=NORMAL``: no fsync at each commit, only at
    checkpoints (a commit survives the process dying; a power cut can lose the last few).
    WAL is kept in the file once set; an in-memory database stays in its own mode.
    ``secure_delete``: a deleted row's bytes are overwritten with zeros, so "delete my data"
    and retention leave nothing readable in the file's free pages."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def checkpoint(engine: Engine) -> None:
    """After deleting personal data from a SQLite file: copy the write-ahead log into the
    file and empty it, so the deleted rows' pages do not wait there. Nothing elsewhere."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error."""
    session = Session(engine, future=True, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def upgrade(engine: Engine) -> None:
    """Bring the schema up to date by running every Alembic migration."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@lru_cache(maxsize=4)
def shared_engine(url: str) -> Engine:
    """One migrated engine per URL for a whole process (servers, workers)."""
    engine = make_engine(url)
    upgrade(engine)
    return engine
