"""Plain records for the directory, shared by the importers, the search and the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

KINDS = ("service", "role")
MAX_AGE = 25  # the Local Offer covers children and young people up to 25


@dataclass(frozen=True)
class Need:
    """A need in the taxonomy and the words families use for it."""

    key: str
    label: str
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """A service or role in the Who's Who and how to reach it.

    ``phone`` is the number as the source typed it (for showing); ``phone_dial`` is the
    same number normalised for dialling (``+441632960123``, or a short code such as
    ``116123``). Fields are only ever added here, never renamed: other parts of the
    assistant (and other councils' data) depend on these names.
    """

    key: str
    name: str
    kind: str
    summary: str
    needs: tuple[str, ...]
    age_min: int = 0
    age_max: int = MAX_AGE
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
    # From richer sources (Open Referral): all optional, so YAML entries stay short.
    phone_dial: str | None = None
    more_phones: tuple[str, ...] = ()  # other numbers as typed, e.g. "Text: 07700 900123"
    description: str = ""
    organisation: str | None = None
    address: str | None = None
    eligibility: str | None = None
    cost: str | None = None
    languages: tuple[str, ...] = ()
    accessibility: str | None = None
    taxonomy: tuple[str, ...] = ()  # the source's own taxonomy term names
    source_id: str | None = None  # the id the source gave it

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

    @cached_property
    def _entries_by_key(self) -> dict[str, Entry]:
        return {entry.key: entry for entry in self.entries}

    @cached_property
    def _needs_by_key(self) -> dict[str, Need]:
        return {need.key: need for need in self.needs}

    @cached_property
    def _by_need(self) -> dict[str, list[Entry]]:
        helping: dict[str, list[tuple[int, int, Entry]]] = {}
        for order, entry in enumerate(self.entries):
            for rank, need in enumerate(entry.needs):
                helping.setdefault(need, []).append((rank, order, entry))
        return {need: [e for _, _, e in sorted(found)] for need, found in helping.items()}

    def entry(self, key: str) -> Entry | None:
        return self._entries_by_key.get(key)

    def need(self, key: str) -> Need | None:
        return self._needs_by_key.get(key)

    def for_need(self, need_key: str, age: int | None = None) -> list[Entry]:
        """Entries that help with ``need_key``, those best at it first."""
        return [e for e in self._by_need.get(need_key, ()) if e.serves_age(age)]
