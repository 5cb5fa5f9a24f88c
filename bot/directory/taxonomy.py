"""From a source's taxonomy terms to our needs, as data (``data/directory/taxonomy_map.yml``).

A council's feed tags services with terms from its own vocabularies (LGA service types,
Family Hubs categories, an in-house list). The mapping file says which of those terms
mean which need in ``needs.yml``; a term is found by its vocabulary (optional) and its id,
code or name, case and spacing ignored. Without a rule, a term whose id or name is a need
key, or whose name is a need's label, means that need. Every other term is "unmapped":
the import reports it with how many services carry it, so a person can add a rule.

Some terms are never needs, whatever they say: age groups ("0-5 years", "Under 18s") and
data-source tags ("Source: Family Information Service"). They are listed under
``ignore`` and are kept out of the needs; an age group still gives the service's ages
when the source has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from bot.directory.records import Need
from bot.text import normalise

_AGE_RANGE = re.compile(r"(\d{1,2})\s*(?:-|to|\u2013)\s*(\d{1,3})")
_UNDER = re.compile(r"\bunder\s*(\d{1,2})")
_OVER = re.compile(r"\b(\d{1,2})\s*(?:\+|and over|plus)")


def default_map_path() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "directory" / "taxonomy_map.yml"


@dataclass(frozen=True)
class Term:
    """A taxonomy term as a source gives it."""

    name: str
    id: str = ""
    code: str = ""
    vocabulary: str = ""

    @property
    def label(self) -> str:
        """How the import report names the term: its name, vocabulary and id."""
        parts = [f"'{self.name or self.id}'"]
        if self.vocabulary:
            parts.append(f"vocabulary '{self.vocabulary}'")
        if self.id and self.id != self.name:
            parts.append(f"id '{self.id}'")
        return ", ".join(parts)


@dataclass(frozen=True)
class _Rule:
    vocabulary: str
    keys: frozenset[str]  # normalised ids, codes or names
    needs: tuple[str, ...]


@dataclass(frozen=True)
class TaxonomyMap:
    """Rules from terms to need keys, and the terms that are never needs."""

    rules: tuple[_Rule, ...] = ()
    ignore_vocabularies: frozenset[str] = frozenset()
    ignore_patterns: tuple[re.Pattern[str], ...] = ()
    needs: Mapping[str, Need] = field(default_factory=dict)

    _seen: dict[Term, tuple[str, ...] | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    @cached_property
    def _labels(self) -> dict[str, str]:
        return {normalise(need.label): need.key for need in self.needs.values()}

    def ignored(self, term: Term) -> bool:
        """True for age groups and data-source tags: never a need (no rule maps to none)."""
        return self.needs_for(term) == ()

    def needs_for(self, term: Term) -> tuple[str, ...] | None:
        """The need keys a term means; () when it is never a need; None when unmapped.
        Feeds repeat the same few terms thousands of times: each is worked out once."""
        if term not in self._seen:
            self._seen[term] = self._needs_for(term)
        return self._seen[term]

    def _is_ignored(self, term: Term) -> bool:
        if normalise(term.vocabulary) in self.ignore_vocabularies:
            return True
        names = (" ".join(term.name.lower().split()), normalise(term.name))
        return any(p.fullmatch(name) for p in self.ignore_patterns for name in names)

    def _needs_for(self, term: Term) -> tuple[str, ...] | None:
        if self._is_ignored(term):
            return ()
        names = {normalise(value) for value in (term.id, term.code, term.name) if value}
        vocabulary = normalise(term.vocabulary)
        for rule in self.rules:
            if rule.vocabulary and rule.vocabulary != vocabulary:
                continue
            if rule.keys & names:
                return rule.needs
        for value in names:
            key = value.replace(" ", "_")
            if key in self.needs:
                return (key,)
        for value in names:
            if value in self._labels:
                return (self._labels[value],)
        return None


def ages_from_term(name: str) -> tuple[int, int] | None:
    """The ages an age-group term names: "0-5 years" (0, 5), "Under 18s" (0, 17), "16+"."""
    text = name.lower().replace("\u2013", "-")
    found = _AGE_RANGE.search(text)
    if found:
        return int(found.group(1)), int(found.group(2))
    found = _UNDER.search(text)
    if found:
        return 0, max(0, int(found.group(1)) - 1)
    found = _OVER.search(text)
    if found:
        return int(found.group(1)), 99
    return None


class TaxonomyMapError(ValueError):
    """A mapping file that cannot be used; the message names the bad rule."""


def load_taxonomy_map(
    path: Path | None, needs: Iterable[Need], lenient: bool = False
) -> TaxonomyMap:
    """Read a mapping file (``None``: only the automatic matches by need key and label).
    ``lenient`` (the shipped default map, used with a council's own needs.yml) drops rules
    for needs that file does not have instead of refusing the map."""
    by_key = {need.key: need for need in needs}
    if path is None:
        return TaxonomyMap(needs=by_key)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyMapError(f"{path}: cannot be read: {exc}") from exc
    if not isinstance(data, Mapping):
        raise TaxonomyMapError(f"{path}: expected a mapping with 'terms' and 'ignore'")
    problems: list[str] = []
    rules = []
    for number, raw in enumerate(data.get("terms") or [], start=1):
        rule = _rule(raw, by_key, f"terms[{number}]", problems, lenient)
        if rule is not None:
            rules.append(rule)
    ignore: Mapping[str, Any] = data.get("ignore") or {}
    patterns = []
    for raw in ignore.get("names") or []:
        try:
            patterns.append(re.compile(str(raw), re.I))
        except re.error as exc:
            problems.append(f"ignore.names: '{raw}' is not a regular expression: {exc}")
    if problems:
        raise TaxonomyMapError(f"{path}: " + "; ".join(problems))
    return TaxonomyMap(
        rules=tuple(rules),
        ignore_vocabularies=frozenset(normalise(str(v)) for v in ignore.get("vocabularies") or []),
        ignore_patterns=tuple(patterns),
        needs=by_key,
    )


def _rule(
    raw: Any, needs: Mapping[str, Need], where: str, problems: list[str], lenient: bool = False
) -> _Rule | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping with a name or id, and needs")
        return None
    keys = [raw.get(field) for field in ("id", "code", "name")]
    keys += list(raw.get("names") or []) + list(raw.get("ids") or [])
    normalised = frozenset(normalise(str(key)) for key in keys if key not in (None, ""))
    wanted = raw.get("needs")
    wanted = [wanted] if isinstance(wanted, str) else list(wanted or [])
    if not normalised or not wanted:
        problems.append(f"{where}: needs a name or id, and at least one need")
        return None
    unknown = [str(n) for n in wanted if n not in needs]
    if unknown and needs and lenient:
        wanted = [n for n in wanted if n in needs]
        return (
            _Rule(normalise(str(raw.get("vocabulary") or "")), normalised, tuple(map(str, wanted)))
            if wanted
            else None
        )
    if unknown and needs:
        problems.append(f"{where}: unknown need(s) {', '.join(unknown)}; see needs.yml")
        return None
    return _Rule(normalise(str(raw.get("vocabulary") or "")), normalised, tuple(map(str, wanted)))
