"""A row read from any source, before it is checked and becomes an :class:`Entry`.

Each reader (officer YAML/CSV, Open Referral JSON, HSDS CSV) fills a :class:`Draft` with
raw values and remembers the source's own name for each field, so every problem in the
import report names the field as the council's system calls it (``phones[0].number``,
``service_taxonomys``, ``phones.csv row 4 number``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.directory.taxonomy import Term


@dataclass
class PhoneValue:
    """A phone number as found: where, the number, its extension and type (voice, text...)."""

    field: str
    number: Any
    extension: Any = None
    type: str = ""


@dataclass
class Draft:
    """One row of a source, its raw values, and the source's names for its fields."""

    where: str  # how the report names the row: "service 3 (id 'a1', 'Riverside Play')"
    key: str | None = None  # our key (YAML/CSV); Open Referral rows get one from source_id
    source_id: str | None = None
    name: Any = None
    kind: Any = "service"
    summary: Any = None  # an explicit one-line summary, which wins over the description
    description: str = ""
    needs: list[str] = field(default_factory=list)  # explicit need keys (officer files)
    terms: list[Term] = field(default_factory=list)
    age_min: Any = None
    age_max: Any = None
    zero_max_age_is_unset: bool = False  # Open Referral: maximum_age 0 means "not given"
    age_terms: list[tuple[int, int]] = field(default_factory=list)  # from age-group terms
    phones: list[PhoneValue] = field(default_factory=list)
    email: Any = None
    web: Any = None
    hours: str | None = None
    how_to_refer: Any = None
    area: str = ""
    keywords: list[str] = field(default_factory=list)
    organisation: str | None = None
    address: str | None = None
    eligibility: str | None = None
    cost: str | None = None
    languages: list[str] = field(default_factory=list)
    accessibility: str | None = None
    status: str | None = None
    last_checked: Any = None  # when the service last confirmed these details
    checked_by: Any = None  # who checked, as a role
    fields: dict[str, str] = field(default_factory=dict)  # our field -> the source's name
    notes: list[str] = field(default_factory=list)  # values left out while reading the row

    def source_field(self, ours: str) -> str:
        return self.fields.get(ours, ours)
