"""A migrated database of either kind, for tests that must hold on SQLite and PostgreSQL.

PostgreSQL is ``TEST_POSTGRES_URL`` (default: the local server's ``test`` database); each
test gets a fresh schema, dropped afterwards. ``SKIP_POSTGRES=1`` turns those off.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from bot.db import make_engine, upgrade

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file, then a migrated fresh PostgreSQL schema."""
    if request.param == "sqlite":
        db = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
        upgrade(db)
        yield db
        db.dispose()
        return
    if os.environ.get("SKIP_POSTGRES") == "1":
        pytest.skip("SKIP_POSTGRES=1: PostgreSQL checks turned off by the caller")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    db = make_engine(POSTGRES_URL)

    @event.listens_for(db, "connect")
    def _search_path(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute(f'set search_path to "{schema}"')
        cursor.close()

    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def current_schema(engine: Engine) -> str | None:
    """The schema a test's tables are in (PostgreSQL: its own; SQLite: None)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return str(connection.execute(text("select current_schema()")).scalar())
