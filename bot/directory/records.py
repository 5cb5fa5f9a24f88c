"""Plain records for the directory, shared by the importers, the search and the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

KINDS = ("service", "role")


@dataclass(frozen=True)
class Need:
    """A need in the taxonomy and the words families use for it."""

    key: str
    label: str
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """A service or role in the Who's Who and how to reach it."""

    key: str
    name: str
    kind: str
    summary: str
    needs: tuple[str, ...]
    age_min: int = 0
    age_max: int = 25
    area: str = ""
    phone: str | None = None
    email: str | None = None
    web: str | None = None
    hours: str | None = None
    how_to_refer: str | None = None
    keywords: tuple[str, ...] = ()
    sample_data: bool = False
    last_checked: date | None = None  # when the service last confirmed these details
    checked_by: str | None = None  # who checked, as a role ("service manager"), never a name

    def serves_age(self, age: int | None) -> bool:
        return age is None or self.age_min <= age <= self.age_max


@dataclass(frozen=True)
class Directory:
    """A whole directory as imported: its needs and entries."""

    needs: tuple[Need, ...]
    entries: tuple[Entry, ...]
    area: str = ""
    sample_data: bool = False
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    def entry(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)

    def need(self, key: str) -> Need | None:
        return next((n for n in self.needs if n.key == key), None)

    def for_need(self, need_key: str, age: int | None = None) -> list[Entry]:
        """Entries that help with ``need_key``, those best at it first."""
        helping = [e for e in self.entries if need_key in e.needs and e.serves_age(age)]
        return sorted(helping, key=lambda e: e.needs.index(need_key))
