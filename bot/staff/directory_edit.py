"""Edit the Who's Who from the staff console: the importer's validation, previews of the
reply a family would get, a history of changes with who made them, and file imports with
a dry run first."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Integer, String, select
from sqlalchemy.engine import Engine

from bot.db import Base, session_scope, utcnow
from bot.directory import importer
from bot.directory.importer import DirectoryError, load_file
from bot.directory.records import Directory, Entry, Need
from bot.directory.render import signpost_sms, signpost_text
from bot.directory.store import entry_source, load_directory, save_directory
from bot.sms import segments, to_gsm7

FIELDS = (
    "key",
    "name",
    "kind",
    "summary",
    "needs",
    "age_min",
    "age_max",
    "area",
    "phone",
    "email",
    "web",
    "hours",
    "how_to_refer",
    "keywords",
)
LIST_FIELDS = ("needs", "keywords")


class DirectoryChangeRow(Base):
    """One change to one entry: who, when, and the entry before and after."""

    __tablename__ = "directory_changes"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    by = Column(String(200), nullable=False)
    entry_key = Column(String(64), nullable=False, index=True)
    action = Column(String(16), nullable=False)  # added, edited, imported, removed
    before = Column(JSON)
    after = Column(JSON)


def check_with_importer(data: Mapping[str, Any], needs: tuple[Need, ...], source: str) -> Directory:
    """The importer's own row validation: the one place the console calls into it."""
    return importer.check_officer_entries(data, needs, source)


def entry_fields(entry: Entry) -> dict[str, Any]:
    """An entry as the form's fields (lists joined with '; ')."""
    fields = {name: getattr(entry, name) for name in FIELDS}
    for name in LIST_FIELDS:
        fields[name] = "; ".join(fields[name])
    for name in ("phone", "email", "web", "hours", "how_to_refer"):
        fields[name] = fields[name] or ""
    return fields


def _snapshot(entry: Entry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    data = dataclasses.asdict(entry)
    for name in LIST_FIELDS:
        data[name] = list(data[name])
    if data.get("last_checked") is not None:  # JSON has no dates
        data["last_checked"] = data["last_checked"].isoformat()
    return data


@dataclass(frozen=True)
class Checked:
    """A form checked by the importer's rules: the entry, or problems per field."""

    entry: Entry | None
    problems: list[str]
    field_errors: dict[str, str]


def _field_of(problem: str) -> str:
    message = problem.split(": ", 1)[-1]
    for name in FIELDS:
        if message.startswith((f"'{name}'", f"{name} ")):
            return name
    if "unknown need" in message:
        return "needs"
    if message.startswith("key is used twice"):
        return "key"
    return "name"


def check_form(engine: Engine, form: Mapping[str, str], existing_key: str | None = None) -> Checked:
    """Validate one entry from the console's form with the importer's rules; a new entry's
    key must not be taken, and an existing entry keeps its key."""
    directory = load_directory(engine)
    raw: dict[str, Any] = {name: (form.get(name) or "").strip() for name in FIELDS}
    if existing_key is not None:
        raw["key"] = existing_key
    current = directory.entry(existing_key) if existing_key else None
    sample = current.sample_data if current else directory.sample_data
    problems: list[str] = []
    entry: Entry | None = None
    try:
        checked = check_with_importer(
            {"entries": [raw], "area": raw["area"], "sample_data": sample},
            directory.needs,
            "form",
        )
        entry = checked.entries[0]
    except DirectoryError as exc:
        problems = [p.split(": ", 1)[-1] for p in exc.problems]
        field_errors: dict[str, str] = {}
        for problem in exc.problems:
            field_errors.setdefault(_field_of(problem), problem.split(": ", 1)[-1])
        return Checked(None, problems, field_errors)
    if existing_key is None and directory.entry(entry.key) is not None:
        message = f"There is already an entry with the key '{entry.key}'"
        return Checked(None, [message], {"key": message})
    return Checked(entry, [], {})


CHECKED_BY = "Local Offer team"  # the role that edits the directory in the console


def save_entry(engine: Engine, entry: Entry, by: str, source: str = "staff console") -> str:
    """Add or change one entry and record the change; returns 'added', 'edited' or
    'unchanged'. Saving from the console counts as checking the entry: it is marked
    checked today by the Local Offer team (a role, never a name)."""
    before = load_directory(engine).entry(entry.key)
    if before == entry:
        return "unchanged"
    entry = dataclasses.replace(entry, last_checked=date.today(), checked_by=CHECKED_BY)
    # An edited entry stays with the import that owns it (imports change only their own).
    owner = entry_source(engine, entry.key) or source
    report = save_directory(engine, Directory(needs=(), entries=(entry,), source=owner))
    if report.clashes:  # cannot happen with the owner's source; say so loudly if it does
        raise RuntimeError(f"directory edit not saved: {report.clashes}")
    action = "edited" if before else "added"
    with session_scope(engine) as session:
        session.add(
            DirectoryChangeRow(
                at=utcnow(),
                by=by,
                entry_key=entry.key,
                action=action,
                before=_snapshot(before),
                after=_snapshot(entry),
            )
        )
    return action


@dataclass(frozen=True)
class Change:
    at: Any
    by: str
    action: str
    fields: list[tuple[str, str, str]]  # name, before, after


def history(engine: Engine, key: str | None = None, limit: int = 100) -> list[Change]:
    """Changes to one entry (or all), newest first, each with the fields that changed."""
    with session_scope(engine) as session:
        query = select(DirectoryChangeRow).order_by(DirectoryChangeRow.id.desc()).limit(limit)
        if key:
            query = query.where(DirectoryChangeRow.entry_key == key)
        rows = list(session.scalars(query))
    changes = []
    for row in rows:
        before, after = row.before or {}, row.after or {}
        fields = [
            (name, _show(before.get(name)), _show(after.get(name)))
            for name in FIELDS
            if before.get(name) != after.get(name)
        ]
        changes.append(Change(row.at, str(row.by), f"{row.action} {row.entry_key}", fields))
    return changes


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Preview:
    sms: str
    sms_segments: int
    web: str


def preview(entry: Entry) -> Preview:
    """What a family would be sent if this entry were the answer: on SMS and on the web."""
    sms = to_gsm7(signpost_sms([entry]))
    return Preview(sms=sms, sms_segments=segments(sms), web=signpost_text([entry]))


@dataclass(frozen=True)
class ImportPlan:
    """A dry run of an import: problems (nothing can change), or what would change."""

    problems: list[str]
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    new_needs: list[str]


def dry_run(engine: Engine, path: Path, replace: bool = False) -> ImportPlan:
    """Check a file with the importer (its check mode) and compare it with the directory;
    changes nothing."""
    try:
        incoming = load_file(path)
    except DirectoryError as exc:
        return ImportPlan(list(exc.problems), [], [], [], [], [])
    current = load_directory(engine)
    known = {n.key for n in current.needs}
    added, updated, unchanged = [], [], []
    for entry in incoming.entries:
        before = current.entry(entry.key)
        if before is None:
            added.append(entry.key)
        elif dataclasses.replace(before, sample_data=entry.sample_data) == entry:
            unchanged.append(entry.key)
        else:
            updated.append(entry.key)
    wanted = {e.key for e in incoming.entries}
    removed = [e.key for e in current.entries if e.key not in wanted] if replace else []
    new_needs = [n.key for n in incoming.needs if n.key not in known]
    return ImportPlan([], added, updated, unchanged, removed, new_needs)


def apply_import(engine: Engine, path: Path, by: str, replace: bool = False) -> ImportPlan:
    """Import a file (after a dry run), recording every added, changed or removed entry."""
    plan = dry_run(engine, path, replace)
    if plan.problems:
        return plan
    incoming = load_file(path)
    current = load_directory(engine)
    save_directory(engine, incoming, replace=replace)
    with session_scope(engine) as session:
        for key in plan.added + plan.updated + plan.removed:
            action = "removed" if key in plan.removed else "imported"
            session.add(
                DirectoryChangeRow(
                    at=utcnow(),
                    by=by,
                    entry_key=key,
                    action=action,
                    before=_snapshot(current.entry(key)),
                    after=_snapshot(incoming.entry(key)),
                )
            )
    return plan
