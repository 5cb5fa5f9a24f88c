"""Save an imported directory to the database and load it back for searching."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.directory.models import EntryNeedRow, EntryRow, NeedRow, utcnow
from bot.directory.records import Directory, Entry, Need


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    added: int
    updated: int
    removed: int
    needs: int


def save_directory(engine: Engine, directory: Directory, replace: bool = False) -> ImportReport:
    """Upsert needs and entries by key; with ``replace``, remove entries not in ``directory``."""
    added = updated = removed = 0
    with session_scope(engine) as session:
        for need in directory.needs:
            row = session.get(NeedRow, need.key) or NeedRow(key=need.key)
            row.label = need.label
            row.synonyms = list(need.synonyms)
            session.add(row)
        session.flush()
        existing = {row.key: row for row in session.scalars(select(EntryRow))}
        for entry in directory.entries:
            row = existing.get(entry.key)
            if row is None:
                row = EntryRow(key=entry.key)
                session.add(row)
                added += 1
            else:
                updated += 1
            row.name, row.kind, row.summary = entry.name, entry.kind, entry.summary
            row.age_min, row.age_max, row.area = entry.age_min, entry.age_max, entry.area
            row.phone, row.email, row.web = entry.phone, entry.email, entry.web
            row.hours, row.how_to_refer = entry.hours, entry.how_to_refer
            row.keywords = list(entry.keywords)
            row.sample_data = entry.sample_data
            row.last_checked, row.checked_by = entry.last_checked, entry.checked_by
            row.source = directory.source
            row.updated_at = utcnow()
            row.need_links = [
                EntryNeedRow(need_key=need, rank=rank) for rank, need in enumerate(entry.needs)
            ]
        if replace:
            wanted = {e.key for e in directory.entries}
            stale = [key for key in existing if key not in wanted]
            if stale:
                session.execute(delete(EntryRow).where(EntryRow.key.in_(stale)))
                removed = len(stale)
    return ImportReport(added, updated, removed, len(directory.needs))


def load_directory(engine: Engine) -> Directory:
    """Read the whole directory from the database."""
    with session_scope(engine) as session:
        needs = tuple(
            Need(key=row.key, label=row.label, synonyms=tuple(row.synonyms))
            for row in session.scalars(select(NeedRow).order_by(NeedRow.key))
        )
        entries = tuple(
            Entry(
                key=row.key,
                name=row.name,
                kind=row.kind,
                summary=row.summary,
                needs=tuple(link.need_key for link in row.need_links),
                age_min=row.age_min,
                age_max=row.age_max,
                area=row.area,
                phone=row.phone,
                email=row.email,
                web=row.web,
                hours=row.hours,
                how_to_refer=row.how_to_refer,
                keywords=tuple(row.keywords),
                sample_data=row.sample_data,
                last_checked=row.last_checked,
                checked_by=row.checked_by,
            )
            for row in session.scalars(select(EntryRow).order_by(EntryRow.id))
        )
    return Directory(needs=needs, entries=entries, sample_data=any(e.sample_data for e in entries))


def directory_version(engine: Engine) -> tuple[int, int, str]:
    """A cheap fingerprint of the directory (entry and need counts, latest change): when it
    changes, a cached copy is out of date."""
    with session_scope(engine) as session:
        count, latest = session.execute(
            select(func.count(EntryRow.id), func.max(EntryRow.updated_at))
        ).one()
        needs = session.scalar(select(func.count(NeedRow.key)))
    return int(count or 0), int(needs or 0), str(latest)
