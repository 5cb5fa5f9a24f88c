"""Migrations and directory storage on SQLite and on PostgreSQL (production)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import event, inspect, text

from bot.db import make_engine, upgrade
from bot.directory.store import load_directory, save_directory

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
EXPECTED_TABLES = {
    "alembic_version", "needs", "entries", "entry_needs", "safety_flags", "feedback",
    "you_said_we_did", "you_said_we_did_notices", "contacts", "inbound_messages", "opt_outs",
    "outbox", "cases", "case_events",
}  # fmt: skip


def test_migrations_create_every_table(engine):
    assert EXPECTED_TABLES <= set(inspect(engine).get_table_names())


def test_upgrade_twice_is_harmless(engine):
    from alembic.script import ScriptDirectory

    from bot.db import MIGRATIONS_DIR

    upgrade(engine)
    with engine.connect() as connection:
        versions = connection.execute(text("select version_num from alembic_version")).all()
    (head,) = ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()
    assert versions == [(head,)]


def test_directory_round_trip(engine, sample_directory):
    report = save_directory(engine, sample_directory)
    assert (report.added, report.updated, report.removed) == (len(sample_directory.entries), 0, 0)
    loaded = load_directory(engine)
    assert loaded.entries == sample_directory.entries
    assert {n.key for n in loaded.needs} == {n.key for n in sample_directory.needs}
    assert loaded.sample_data is True


def test_reimport_updates_and_replace_removes_stale_entries(engine, sample_directory):
    save_directory(engine, sample_directory)
    fewer = replace(sample_directory, entries=sample_directory.entries[:5])
    report = save_directory(engine, fewer, replace=True)
    assert (report.added, report.updated, report.removed) == (
        0, 5, len(sample_directory.entries) - 5,
    )  # fmt: skip
    assert [e.key for e in load_directory(engine).entries] == [
        e.key for e in sample_directory.entries[:5]
    ]


@pytest.fixture
def postgres_engine():
    """A fresh schema in the local PostgreSQL (set SKIP_POSTGRES=1 where there is none)."""
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
        yield db, schema
    finally:
        db.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def test_migrations_and_directory_on_postgresql(postgres_engine, sample_directory):
    db, schema = postgres_engine
    upgrade(db)
    assert EXPECTED_TABLES <= set(inspect(db).get_table_names(schema=schema))
    save_directory(db, sample_directory)
    assert load_directory(db).entries == sample_directory.entries
