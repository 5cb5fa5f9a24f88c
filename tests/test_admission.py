"""Storing an arrival: one transaction of three statements (two for a repeat), and SQLite
files in write-ahead-log mode, where a reader never holds up an arrival."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from bot import contacts
from bot.contacts import Arrival, ContactRow, InboundRow
from bot.db import make_engine, session_scope, upgrade, utcnow
from bot.privacy import erase_person, pseudonymise

KEY = "test-pseudonym-key"
PHONE = "+447700900987"
SENDER = pseudonymise(KEY, "sms", PHONE)


@contextmanager
def counted(engine: Engine) -> Iterator[dict[str, list[str]]]:
    """The statements SQLAlchemy sends, and each begin, commit and rollback, while inside."""
    seen: dict[str, list[str]] = {"statements": [], "begins": [], "commits": [], "rollbacks": []}

    def statement(_conn, _cursor, sql, *_args):  # type: ignore[no-untyped-def]
        words = sql.split()
        seen["statements"].append(
            " ".join(words[:3] + (["ON CONFLICT"] if "CONFLICT" in sql else []))
        )

    def note(kind: str):  # type: ignore[no-untyped-def]
        return lambda *_args: seen[kind].append(kind)

    listeners = [
        ("before_cursor_execute", statement), ("begin", note("begins")),
        ("commit", note("commits")), ("rollback", note("rollbacks")),
    ]  # fmt: skip
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


def arrive(engine: Engine, sid: str, address: str = PHONE) -> Arrival:
    return contacts.admit(engine, "sms", sid, SENDER, address, "how do i get an ehcp")


def test_an_arrival_is_one_transaction_of_three_statements(any_engine):
    engine = any_engine
    with counted(engine) as first:
        assert arrive(engine, "SM1") == Arrival(True, 1)
    with counted(engine) as second:
        assert arrive(engine, "SM2") == Arrival(True, 2)
    statements = [
        "INSERT INTO contacts ON CONFLICT",
        "INSERT INTO inbound_messages ON CONFLICT",
        "SELECT count(inbound_messages.id) AS",
    ]
    for seen in (first, second):
        assert seen == {
            "statements": statements, "begins": ["begins"], "commits": ["commits"],
            "rollbacks": [],
        }  # fmt: skip


def test_a_repeated_delivery_is_one_transaction_stores_nothing_and_refreshes_the_contact(
    any_engine,
):
    engine = any_engine
    assert arrive(engine, "SM1") == Arrival(True, 1)
    with session_scope(engine) as session:
        before = session.get(ContactRow, SENDER)
        first_seen, first_inbound = before.last_seen_at, before.last_inbound_at
    with counted(engine) as seen:
        assert arrive(engine, "SM1", address="+447700900988") == Arrival(False)
    assert seen == {
        "statements": [
            "INSERT INTO contacts ON CONFLICT", "INSERT INTO inbound_messages ON CONFLICT",
        ],
        "begins": ["begins"], "commits": ["commits"], "rollbacks": [],
    }  # fmt: skip
    with session_scope(engine) as session:
        rows = session.scalars(select(InboundRow.external_id)).all()
        contact = session.get(ContactRow, SENDER)
        assert rows == ["SM1"]
        assert contact.address == "+447700900988"  # kept current, as before
        assert contact.last_seen_at > first_seen
        assert contact.last_inbound_at > first_inbound


def test_an_arrival_never_moves_the_last_inbound_time_backwards(any_engine):
    engine = any_engine
    later = utcnow() + timedelta(hours=1)
    contacts.remember_contact(engine, "sms", SENDER, PHONE)
    assert contacts.touch_inbound(engine, SENDER, later)
    assert arrive(engine, "SM1") == Arrival(True, 1)
    with session_scope(engine) as session:
        kept = session.get(ContactRow, SENDER).last_inbound_at
    assert kept.replace(tzinfo=None) == later.replace(tzinfo=None)


def test_the_flood_count_covers_the_last_minute_only(any_engine):
    engine = any_engine
    assert arrive(engine, "SM1") == Arrival(True, 1)
    with session_scope(engine) as session:
        row = session.scalars(select(InboundRow)).one()
        row.received_at = utcnow() - timedelta(seconds=61)
    assert [arrive(engine, f"SM{n}") for n in (2, 3)] == [Arrival(True, 1), Arrival(True, 2)]


def test_a_sqlite_file_is_in_wal_mode_with_normal_sync_from_its_first_connection(tmp_path):
    path = tmp_path / "app.db"
    old = sqlite3.connect(path)  # made before: rollback journal, as every file used to be
    old.execute("create table t (x)")
    old.commit()
    assert old.execute("pragma journal_mode").fetchone() == ("delete",)
    old.close()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("pragma synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("pragma foreign_keys").scalar() == 1
    engine.dispose()
    with sqlite3.connect(path) as other:  # kept in the file, for every process
        assert other.execute("pragma journal_mode").fetchone() == ("wal",)


def test_a_reader_in_the_middle_of_a_read_does_not_hold_up_an_arrival(engine, tmp_path):
    assert arrive(engine, "SM1") == Arrival(True, 1)
    reader = sqlite3.connect(tmp_path / "app.db", isolation_level=None, timeout=0.1)
    reader.execute("begin")
    assert reader.execute("select count(*) from inbound_messages").fetchone() == (1,)
    # In rollback-journal mode the reader's shared lock kept the writer waiting (up to the
    # 5 s busy timeout, then "database is locked"); in WAL mode it goes at once.
    assert arrive(engine, "SM2") == Arrival(True, 2)
    assert reader.execute("select count(*) from inbound_messages").fetchone() == (1,)
    reader.execute("commit")
    assert reader.execute("select count(*) from inbound_messages").fetchone() == (2,)
    reader.close()


def test_erasure_leaves_nothing_of_the_person_in_the_write_ahead_log(engine, tmp_path: Path):
    wal = tmp_path / "app.db-wal"
    assert arrive(engine, "SM1") == Arrival(True, 1)
    assert PHONE.encode() in wal.read_bytes()  # what the log holds until a checkpoint
    erase_person(engine, SENDER, pseudonym_key=KEY, audio_dir=tmp_path)
    assert wal.read_bytes() == b""
    with session_scope(engine) as session:
        assert session.get(ContactRow, SENDER) is None
        assert session.scalars(select(InboundRow)).all() == []
