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

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base

log = logging.getLogger(__name__)

Base = declarative_base()


def utcnow() -> datetime:
    """Now, in UTC: every timestamp the application stores."""
    return datetime.now(timezone.utc)


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Return an engine for ``url``; creates the folder of a SQLite file if needed."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


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
