"""Save an imported directory to the database and load it back for searching.

An import owns the entries of its ``source`` (a file's name, a feed, or ``--source``):
it adds and updates them, and with ``replace`` removes those of the same source that it
no longer lists. It never changes another source's entries (a clash is reported) and
never removes an entry the assistant depends on (:mod:`bot.directory.protected`). Every
import that changes anything raises the directory version in the same transaction, so
servers rebuild their search index only when something changed.

Rows are written and read with SQLAlchemy Core in batches: a council feed of 10,000
services saves in seconds, and an unchanged entry (same content hash) is not written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from bot.db import utcnow
from bot.directory.index import entry_terms
from bot.directory.models import DirectoryStateRow, EntryNeedRow, EntryRow, NeedRow
from bot.directory.protected import protected_keys
from bot.directory.records import Directory, Entry, Need

BATCH = 500
ENTRIES = EntryRow.__table__
LINKS = EntryNeedRow.__table__
NEEDS = NeedRow.__table__
STATE = DirectoryStateRow.__table__
_COLUMNS = (
    "name", "kind", "summary", "age_min", "age_max", "area", "phone", "email", "web", "hours",
    "how_to_refer", "sample_data", "phone_dial", "description", "organisation", "address",
    "eligibility", "cost", "accessibility", "source_id", "last_checked", "checked_by",
)  # fmt: skip
_LIST_COLUMNS = ("keywords", "more_phones", "languages", "taxonomy")


@dataclass(frozen=True)
class ImportReport:
    """What an import changed, and what it would have changed but was not allowed to."""

    added: int
    updated: int
    removed: int
    needs: int
    unchanged: int = 0
    kept: tuple[str, ...] = ()  # entries --replace would remove, kept because they are needed
    clashes: tuple[str, ...] = ()  # keys another source owns: not changed
    unused_needs: tuple[str, ...] = ()  # needs no entry helps with
    version: int = 0


@dataclass
class _Plan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unchanged: int = 0
    clashes: list[str] = field(default_factory=list)


def content_hash(entry: Entry, source: str) -> str:
    """A fingerprint of everything stored for ``entry``: equal means nothing to write."""
    # An Entry holds only text, numbers and tuples of text: its repr is complete and stable.
    return hashlib.sha256(repr((entry, source)).encode("utf-8")).hexdigest()


def _row(entry: Entry, source: str, digest: str, version: int) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(entry, name) for name in _COLUMNS}
    values.update({name: list(getattr(entry, name)) for name in _LIST_COLUMNS})
    values.update(
        key=entry.key,
        source=source,
        content_hash=digest,
        version=version,
        search_terms=entry_terms(entry),
        updated_at=utcnow(),
    )
    return values


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def directory_version(engine: Engine) -> int:
    """The directory's version: it changes whenever an import changes anything."""
    with engine.connect() as connection:
        return int(connection.execute(select(STATE.c.version).where(STATE.c.id == 1)).scalar() or 0)


def _set_version(connection: Connection, version: int, exists: bool) -> None:
    if exists:
        connection.execute(
            update(STATE).where(STATE.c.id == 1).values(version=version, changed_at=utcnow())
        )
    else:
        connection.execute(insert(STATE).values(id=1, version=version, changed_at=utcnow()))


def save_directory(
    engine: Engine,
    directory: Directory,
    replace: bool = False,
    protected: Iterable[str] | None = None,
) -> ImportReport:
    """Add and update ``directory``'s entries for its source; with ``replace``, also remove
    that source's entries it no longer lists, except the ones the assistant needs."""
    source = directory.source
    keep = frozenset(protected_keys() if protected is None else protected)
    with engine.begin() as connection:
        needs_changed = _save_needs(connection, directory.needs)
        current = connection.execute(select(STATE.c.version).where(STATE.c.id == 1)).scalar()
        version = int(current or 0) + 1
        existing = {
            row.key: row
            for row in connection.execute(
                select(ENTRIES.c.id, ENTRIES.c.key, ENTRIES.c.source, ENTRIES.c.content_hash)
            )
        }
        plan = _plan(directory.entries, existing, source, version)
        for batch in _chunks(plan.inserts):
            connection.execute(insert(ENTRIES), list(batch))
        # Rows name the columns to set; match_key picks the row (SQLAlchemy's executemany).
        statement = update(ENTRIES).where(ENTRIES.c.key == bindparam("match_key"))
        for batch in _chunks(plan.updates):
            connection.execute(statement, [{**row, "match_key": row["key"]} for row in batch])
        _save_links(connection, plan.links)
        removed, kept = 0, []
        if replace:
            wanted = {entry.key for entry in directory.entries}
            stale = [
                key for key, row in existing.items() if row.source == source and key not in wanted
            ]
            kept = sorted(key for key in stale if key in keep)
            doomed = [existing[key].id for key in stale if key not in keep]
            for batch in _chunks(doomed):
                connection.execute(delete(LINKS).where(LINKS.c.entry_id.in_(batch)))
                connection.execute(delete(ENTRIES).where(ENTRIES.c.id.in_(batch)))
            removed = len(doomed)
        if needs_changed or plan.inserts or plan.updates or removed:
            _set_version(connection, version, exists=current is not None)
        else:
            version -= 1
        used = set(connection.execute(select(LINKS.c.need_key).distinct()).scalars())
        all_needs = connection.execute(select(NEEDS.c.key).order_by(NEEDS.c.key)).scalars()
        unused = tuple(key for key in all_needs if key not in used)
    return ImportReport(
        added=len(plan.inserts),
        updated=len(plan.updates),
        removed=removed,
        needs=len(directory.needs),
        unchanged=plan.unchanged,
        kept=tuple(kept),
        clashes=tuple(plan.clashes),
        unused_needs=unused,
        version=version,
    )


def _save_needs(connection: Connection, needs: Sequence[Need]) -> bool:
    """Add and update needs; True when any changed."""
    known = {
        row.key: (row.label, list(row.synonyms or []))
        for row in connection.execute(select(NEEDS.c.key, NEEDS.c.label, NEEDS.c.synonyms))
    }
    new = [
        {"key": n.key, "label": n.label, "synonyms": list(n.synonyms)}
        for n in needs
        if n.key not in known
    ]
    old = [
        {"match_key": n.key, "label": n.label, "synonyms": list(n.synonyms)}
        for n in needs
        if n.key in known and known[n.key] != (n.label, list(n.synonyms))
    ]
    if new:
        connection.execute(insert(NEEDS), new)
    if old:
        connection.execute(update(NEEDS).where(NEEDS.c.key == bindparam("match_key")), old)
    return bool(new or old)


def _plan(entries: Sequence[Entry], existing: dict[str, Any], source: str, version: int) -> _Plan:
    plan = _Plan()
    for entry in entries:
        digest = content_hash(entry, source)
        row = existing.get(entry.key)
        if row is not None and row.source != source:
            plan.clashes.append(f"{entry.key} (belongs to source '{row.source}')")
            continue
        if row is not None and row.content_hash == digest:
            plan.unchanged += 1
            continue
        values = _row(entry, source, digest, version)
        (plan.inserts if row is None else plan.updates).append(values)
        plan.links[entry.key] = entry.needs
    return plan


def _save_links(connection: Connection, links: dict[str, tuple[str, ...]]) -> None:
    if not links:
        return
    keys = list(links)
    ids: dict[str, int] = {}
    for batch in _chunks(keys):
        found = connection.execute(
            select(ENTRIES.c.key, ENTRIES.c.id).where(ENTRIES.c.key.in_(batch))
        )
        ids.update((str(key), int(row_id)) for key, row_id in found)
    for batch in _chunks([ids[key] for key in keys]):
        connection.execute(delete(LINKS).where(LINKS.c.entry_id.in_(batch)))
    rows = [
        {"entry_id": ids[key], "need_key": need, "rank": rank}
        for key in keys
        for rank, need in enumerate(dict.fromkeys(links[key]))
    ]
    for batch in _chunks(rows, 2000):
        connection.execute(insert(LINKS), list(batch))


_ENTRY_COLUMNS = [ENTRIES.c[name] for name in ("id", "key", *_COLUMNS, *_LIST_COLUMNS)]


def _entry(values: dict[str, Any], needs: tuple[str, ...]) -> Entry:
    """An Entry from a row of _ENTRY_COLUMNS, as a dict (changed here)."""
    for name in _LIST_COLUMNS:
        values[name] = tuple(values[name] or ())
    values["description"] = values["description"] or ""
    del values["id"]
    return Entry(needs=needs, **values)


def _links(connection: Connection) -> dict[int, list[str]]:
    links: dict[int, list[str]] = {}
    for entry_id, need_key in connection.execute(
        select(LINKS.c.entry_id, LINKS.c.need_key).order_by(LINKS.c.entry_id, LINKS.c.rank)
    ):
        links.setdefault(entry_id, []).append(need_key)
    return links


def load_needs(connection: Connection) -> tuple[Need, ...]:
    return tuple(
        Need(key=row.key, label=row.label, synonyms=tuple(row.synonyms))
        for row in connection.execute(select(NEEDS).order_by(NEEDS.c.key))
    )


def load_directory(engine: Engine) -> Directory:
    """Read the whole directory from the database."""
    directory, _ = load_indexed(engine)
    return directory


def load_indexed(engine: Engine) -> tuple[Directory, dict[str, dict[str, float]]]:
    """The whole directory, each entry's stored search terms, in one consistent read."""
    with engine.connect() as connection:
        needs = load_needs(connection)
        links = _links(connection)
        rows = connection.execute(
            select(*_ENTRY_COLUMNS, ENTRIES.c.search_terms).order_by(ENTRIES.c.id)
        ).all()
    terms: dict[str, dict[str, float]] = {}
    entries = []
    for row in rows:
        values = dict(row._mapping)
        terms[values["key"]] = values.pop("search_terms") or {}
        entries.append(_entry(values, tuple(links.get(values["id"], ()))))
    directory = Directory(
        needs=needs, entries=tuple(entries), sample_data=any(e.sample_data for e in entries)
    )
    return directory, terms


def load_entry(engine: Engine, key: str) -> Entry | None:
    """One entry by key, read directly (the crisis reply's front door: no index needed)."""
    with engine.connect() as connection:
        row = connection.execute(select(*_ENTRY_COLUMNS).where(ENTRIES.c.key == key)).first()
        if row is None:
            return None
        needs = tuple(
            connection.execute(
                select(LINKS.c.need_key).where(LINKS.c.entry_id == row.id).order_by(LINKS.c.rank)
            ).scalars()
        )
    return _entry(dict(row._mapping), needs)


def entry_source(engine: Engine, key: str) -> str | None:
    """The source an entry belongs to (the import that owns it), or None if there is none."""
    with engine.connect() as connection:
        found = connection.execute(select(ENTRIES.c.source).where(ENTRIES.c.key == key)).scalar()
    return None if found is None else str(found)


def entry_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(ENTRIES)).scalar() or 0)
