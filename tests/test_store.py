"""Migrations and directory storage on SQLite and on PostgreSQL (production)."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import event, inspect, text

from bot.db import make_engine, upgrade
from bot.directory.index import entry_terms
from bot.directory.protected import protected_keys
from bot.directory.records import Directory, Entry
from bot.directory.store import (
    directory_version,
    load_directory,
    load_entry,
    load_indexed,
    save_directory,
)

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
EXPECTED_TABLES = {
    "alembic_version", "needs", "entries", "entry_needs", "safety_flags", "feedback",
    "you_said_we_did", "you_said_we_did_notices", "contacts", "inbound_messages", "opt_outs",
    "outbox", "cases", "case_events", "directory_state",
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


def test_reimport_updates_and_replace_removes_only_what_may_go(engine, sample_directory):
    save_directory(engine, sample_directory)
    version = directory_version(engine)
    assert save_directory(engine, sample_directory).unchanged == len(sample_directory.entries)
    assert directory_version(engine) == version  # nothing changed: servers keep their index
    fewer = replace(sample_directory, entries=sample_directory.entries[:5])
    report = save_directory(engine, fewer, replace=True)
    needed = protected_keys()
    gone = [e.key for e in sample_directory.entries[5:] if e.key not in needed]
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 0, 5, len(gone))
    # The safeguarding front door, the Local Offer team and every entry data/routing.yml
    # sends cases to stay, whatever the import says.
    assert {"family_connect", "local_offer", "travel_assistance"} <= set(report.kept)
    assert set(report.kept) == {e.key for e in sample_directory.entries[5:]} - set(gone)
    left = {e.key for e in load_directory(engine).entries}
    assert left == {e.key for e in sample_directory.entries} - set(gone)
    assert directory_version(engine) == version + 1
    # Needs no entry helps with any more are reported, never removed.
    assert set(report.unused_needs) == {n.key for n in sample_directory.needs} - {
        need for key in left for need in sample_directory.entry(key).needs
    }
    assert {n.key for n in load_directory(engine).needs} == {n.key for n in sample_directory.needs}


def test_an_import_changes_only_its_own_source(engine, sample_directory):
    save_directory(engine, sample_directory)
    council = Entry(
        key="riverside_play", name="Riverside Play", kind="service",
        summary="Play sessions for disabled children.", needs=("short_breaks_activities",),
    )  # fmt: skip
    feed = Directory(needs=sample_directory.needs, entries=(council,), source="council-feed")
    report = save_directory(engine, feed, replace=True)
    assert (report.added, report.removed, report.kept) == (1, 0, ())  # the sample stays
    # Another source may not overwrite an entry it does not own.
    hijack = replace(sample_directory.entry("family_connect"), phone="01632 960999")
    other = Directory(needs=sample_directory.needs, entries=(hijack,), source="council-feed")
    report = save_directory(engine, other, replace=True)
    assert report.clashes == ("family_connect (belongs to source 'telford_wrekin.yml')",)
    assert report.removed == 1  # riverside_play, which the feed no longer lists
    assert load_entry(engine, "family_connect").phone == "01632 960111"
    assert load_entry(engine, "riverside_play") is None


def test_entries_keep_every_field_and_their_search_words(engine, sample_directory):
    full = replace(
        sample_directory.entries[0],
        phone_dial="+441632960101", more_phones=("Text: 07700 900101",),
        description="A long description.", organisation="Org", address="1 Example Way",
        eligibility="Families", cost="Free", languages=("English", "Polish"),
        accessibility="Step-free", taxonomy=("Advice",), source_id="abc-1",
        hours="Mon-Fri 9am-5pm; Sat 10am-1pm " + "x" * 300,
    )  # fmt: skip
    save_directory(engine, replace(sample_directory, entries=(full,)))
    directory, terms = load_indexed(engine)
    assert directory.entries == (full,)
    assert terms[full.key] == entry_terms(full)
    assert terms[full.key]["iass"] == 1.0  # a word of the name weighs most


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


def test_upgrade_keeps_entries_and_names_their_source_by_file(tmp_path, sample_directory):
    """A database made before 0016a: its sources were file paths; an import of the same
    file afterwards still updates its own entries instead of clashing with them."""
    from alembic import command
    from alembic.config import Config

    from bot.db import MIGRATIONS_DIR

    db = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.execute(
            text(
                "insert into entries (key, name, kind, summary, age_min, age_max, area, keywords,"
                " sample_data, source, updated_at) values ('family_connect', 'Family Connect',"
                " 'service', 'Old summary.', 0, 18, 'x', '[]', 1,"
                " '/srv/app/data/directory/telford_wrekin.yml', '2026-01-01 00:00:00')"
            )
        )
    upgrade(db)
    with db.connect() as connection:
        assert connection.execute(text("select source from entries")).scalar() == (
            "telford_wrekin.yml"
        )
    report = save_directory(db, sample_directory)
    assert report.clashes == ()
    assert report.updated == 1
    assert (
        load_entry(db, "family_connect").summary == sample_directory.entry("family_connect").summary
    )
    db.dispose()
