"""The personal-data inventory covers every column the database has, and PRIVACY.md
says what it says."""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy import inspect

import bot
from bot.config import PROJECT_ROOT
from bot.db import Base
from bot.inventory import APP, INVENTORY, TRACKER, by_name, markdown, section_of
from tests.databases import current_schema

KEPT = "kept"


def all_models() -> dict[str, set[str]]:
    """Every table of ``bot.db.Base``, after importing every module of ``bot``."""
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        if not module.name.startswith(("bot.migrations", "bot.__main__")):
            importlib.import_module(module.name)
    return {name: {c.name for c in table.columns} for name, table in Base.metadata.tables.items()}


def unlisted(tables: dict[str, set[str]]) -> list[str]:
    """Columns the inventory does not classify, and columns it lists that do not exist."""
    listed = by_name()
    problems = []
    for name, columns in sorted(tables.items()):
        table = listed.get(name)
        if table is None:
            problems.append(f"table {name} is not in the inventory")
            continue
        known = set(table.personal) | set(table.other)
        problems += [f"{name}.{c}: not classified" for c in sorted(columns - known)]
        problems += [f"{name}.{c}: listed but not in the table" for c in sorted(known - columns)]
    return problems


def test_every_model_column_is_classified_as_personal_or_not():
    assert unlisted(all_models()) == []


def test_every_column_of_the_migrated_schema_is_classified(any_engine):
    current = current_schema(any_engine)
    names = inspect(any_engine).get_table_names(schema=current)
    tables = {
        t: {c["name"] for c in inspect(any_engine).get_columns(t, schema=current)} for t in names
    }
    assert "outbox" in tables and "contacts" in tables
    assert unlisted(tables) == []
    app_tables = {t.name for t in INVENTORY if t.store == APP}
    assert app_tables == set(tables)  # nothing listed that the migrations do not make


def test_the_tracker_stores_events_table_is_classified():
    from rasa.core.tracker_store import SQLTrackerStore

    columns = {c.name for c in SQLTrackerStore.SQLEvent.__table__.columns}
    assert unlisted({"events": columns}) == []
    assert by_name()["events"].store == TRACKER


def test_no_column_is_both_personal_and_not():
    for table in INVENTORY:
        assert not set(table.personal) & table.other, table.name


def test_every_personal_column_has_rules_that_are_carried_out():
    names = by_name()
    for table in INVENTORY:
        if not table.personal:
            continue
        for column, rule in table.personal.items():
            assert rule.holds and rule.erasure and rule.retention, f"{table.name}.{column}"
        if table.done_by:
            continue
        erased = {r.erasure.startswith(KEPT) for r in table.personal.values()}
        if erased != {True}:
            assert table.erase or names[table.erased_with].erase, f"{table.name}: no eraser"
        expired = {r.retention.startswith(KEPT) for r in table.personal.values()}
        if expired != {True}:
            assert table.expire or names[table.expired_with].expire, f"{table.name}: no expiry"


def test_privacy_md_lists_the_inventory():
    privacy = (PROJECT_ROOT / "PRIVACY.md").read_text(encoding="utf-8")
    assert (
        section_of(privacy) == markdown()
    ), "run: python -m bot privacy inventory --write PRIVACY.md"
    for table in INVENTORY:
        for column in table.personal:
            assert f"`{table.name}.{column}`" in privacy
