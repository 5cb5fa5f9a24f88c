"""Read a directory from a council officer's YAML or CSV file, or from Open Referral UK JSON.

Every importer returns a :class:`Directory` or raises :class:`DirectoryError` listing every
problem, each naming the bad row, so an officer can fix the file in one pass.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.directory.records import KINDS, Directory, Entry, Need

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_]{1,63}$")
UK_PHONE_RE = re.compile(r"^(?:0|\+44 ?)\d[\d ]{8,12}$")
FICTION_PHONE_RE = re.compile(r"^(?:01632 ?960\d{3}|07700 ?900\d{3})$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_SUMMARY_WORDS = 15


class DirectoryError(ValueError):
    """A directory file that cannot be imported; ``problems`` names each bad row."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{listed}")


def load_file(path: Path, needs_path: Path | None = None) -> Directory:
    """Import a directory file by its suffix (.yml/.yaml, .csv, .json for Open Referral UK)."""
    if not path.is_file():
        raise DirectoryError(str(path), ["file not found"])
    needs_file = needs_path or path.with_name("needs.yml")
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        data = _read_yaml(path)
        needs = _needs_from(data.get("needs"), str(path)) if "needs" in data else None
        return _build(data, needs or _load_needs(needs_file), str(path))
    if suffix == ".csv":
        return _build(_read_csv(path), _load_needs(needs_file), str(path))
    if suffix == ".json":
        return from_open_referral(_read_json(path), _load_needs(needs_file, optional=True), path)
    raise DirectoryError(str(path), [f"unknown file type '{suffix}': use .yml, .csv or .json"])


def load_needs(path: Path) -> tuple[Need, ...]:
    """Read the need taxonomy (``needs.yml``)."""
    return _load_needs(path)


def _load_needs(path: Path, optional: bool = False) -> tuple[Need, ...]:
    if not path.is_file():
        if optional:
            return ()
        raise DirectoryError(str(path), ["need taxonomy file not found"])
    return _needs_from(_read_yaml(path).get("needs"), str(path))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DirectoryError(str(path), [f"not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise DirectoryError(str(path), ["expected a mapping at the top of the file"])
    return data


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DirectoryError(str(path), [f"not valid JSON: {exc}"]) from exc


def _read_csv(path: Path) -> dict[str, Any]:
    """Read the officer's CSV: one row per entry, lists separated by ';'."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    entries = []
    for row in rows:
        entry: dict[str, Any] = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        for list_field in ("needs", "keywords"):
            entry[list_field] = [
                p.strip() for p in entry.get(list_field, "").split(";") if p.strip()
            ]
        entries.append(entry)
    area = entries[0].get("area", "") if entries else ""
    sample = any(str(e.get("sample_data", "")).lower() in ("true", "yes", "1") for e in entries)
    return {"entries": entries, "area": area, "sample_data": sample}


def _needs_from(raw: Any, source: str) -> tuple[Need, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise DirectoryError(
            source, ["'needs' must be a mapping of need key to label and synonyms"]
        )
    problems: list[str] = []
    needs = []
    for key, body in raw.items():
        where = f"needs.{key}"
        if not isinstance(key, str) or not KEY_RE.match(key):
            problems.append(f"{where}: key must be lower case letters, digits and _")
            continue
        if not isinstance(body, Mapping) or not body.get("label"):
            problems.append(f"{where}: needs a 'label'")
            continue
        synonyms = body.get("synonyms") or []
        if not isinstance(synonyms, list) or not all(isinstance(s, str) for s in synonyms):
            problems.append(f"{where}: 'synonyms' must be a list of words or phrases")
            continue
        cleaned = tuple(dict.fromkeys(s.strip().lower() for s in synonyms if s.strip()))
        needs.append(Need(key=key, label=str(body["label"]), synonyms=cleaned))
    if problems:
        raise DirectoryError(source, problems)
    return tuple(needs)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _as_int(value: Any, default: int, where: str, name: str, problems: list[str]) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        problems.append(f"{where}: {name} '{value}' is not a whole number")
        return default


def _as_date(value: Any, where: str, problems: list[str]) -> date | None:
    """A YYYY-MM-DD date (YAML gives a date already); a later date than today is a problem."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            problems.append(f"{where}: last_checked '{value}' is not a date like 2026-03-31")
            return None
    if value > date.today():
        problems.append(f"{where}: last_checked {value} is in the future")
    return value


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(";") if p.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _entry_from(
    raw: Mapping[str, Any],
    where: str,
    need_keys: set[str],
    area: str,
    sample: bool,
    problems: list[str],
) -> Entry | None:
    """Validate one row and return its Entry, adding every problem found to ``problems``."""
    before = len(problems)
    key = _text(raw.get("key")) or ""
    label = f"{where} (key '{key}')" if key else where
    if not KEY_RE.match(key):
        problems.append(f"{label}: 'key' must be lower case letters, digits and _")
    name = _text(raw.get("name"))
    if not name:
        problems.append(f"{label}: 'name' is missing")
    kind = _text(raw.get("kind")) or "service"
    if kind not in KINDS:
        problems.append(f"{label}: 'kind' must be one of {', '.join(KINDS)}, not '{kind}'")
    summary = _text(raw.get("summary")) or ""
    if not summary:
        problems.append(f"{label}: 'summary' is missing")
    elif len(summary.split()) > MAX_SUMMARY_WORDS:
        problems.append(
            f"{label}: 'summary' has {len(summary.split())} words; easy-read allows "
            f"{MAX_SUMMARY_WORDS}"
        )
    needs = _as_list(raw.get("needs"))
    if not needs:
        problems.append(f"{label}: 'needs' must list at least one need")
    unknown = [n for n in needs if n not in need_keys]
    if unknown and need_keys:
        problems.append(f"{label}: unknown need(s) {', '.join(unknown)}; add them to needs.yml")
    age_min = _as_int(raw.get("age_min"), 0, label, "age_min", problems)
    age_max = _as_int(raw.get("age_max"), 25, label, "age_max", problems)
    if age_min > age_max:
        problems.append(f"{label}: age_min {age_min} is above age_max {age_max}")
    phone = _text(raw.get("phone"))
    if phone and not UK_PHONE_RE.match(phone):
        problems.append(f"{label}: phone '{phone}' is not a UK phone number")
    elif phone and sample and not FICTION_PHONE_RE.match(phone):
        problems.append(
            f"{label}: phone '{phone}' is not in the ranges reserved for fiction "
            "(01632 960xxx, 07700 900xxx); sample data must not use real numbers"
        )
    email = _text(raw.get("email"))
    if email and not EMAIL_RE.match(email):
        problems.append(f"{label}: email '{email}' is not an email address")
    elif email and sample and not email.lower().endswith("@example.org"):
        problems.append(f"{label}: sample data must use example.org email addresses")
    web = _text(raw.get("web"))
    if web and not web.startswith(("https://", "http://")):
        problems.append(f"{label}: web '{web}' must start with https://")
    last_checked = _as_date(raw.get("last_checked"), label, problems)
    if len(problems) > before:
        return None
    return Entry(
        key=key,
        name=name or "",
        kind=kind,
        summary=summary,
        needs=tuple(needs),
        age_min=age_min,
        age_max=age_max,
        area=_text(raw.get("area")) or area,
        phone=phone,
        email=email,
        web=web,
        hours=_text(raw.get("hours")),
        how_to_refer=_text(raw.get("how_to_refer")),
        keywords=tuple(k.lower() for k in _as_list(raw.get("keywords"))),
        sample_data=sample,
        last_checked=last_checked,
        checked_by=_text(raw.get("checked_by")),
    )


def _build(data: Mapping[str, Any], needs: tuple[Need, ...], source: str) -> Directory:
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise DirectoryError(source, ["'entries' must be a non-empty list"])
    area = str(data.get("area") or "")
    sample = bool(data.get("sample_data", False))
    need_keys = {n.key for n in needs}
    problems: list[str] = []
    entries: list[Entry] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_entries, start=1):
        where = f"row {index}"
        if not isinstance(raw, Mapping):
            problems.append(f"{where}: expected a mapping of fields")
            continue
        entry = _entry_from(raw, where, need_keys, area, sample, problems)
        if entry is None:
            continue
        if entry.key in seen:
            problems.append(f"{where} (key '{entry.key}'): key is used twice")
            continue
        seen.add(entry.key)
        entries.append(entry)
    if problems:
        raise DirectoryError(source, problems)
    return Directory(
        needs=needs, entries=tuple(entries), area=area, sample_data=sample, source=source
    )


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")[:64]


def _first(items: Iterable[Any] | None) -> Any:
    return next(iter(items or []), None)


def _oruk_schedule(service: Mapping[str, Any]) -> str | None:
    schedules = service.get("regular_schedules") or []
    parts = []
    for slot in schedules:
        day = slot.get("weekday") or slot.get("byday") or ""
        opens, closes = slot.get("opens_at") or "", slot.get("closes_at") or ""
        if day and opens and closes:
            parts.append(f"{day} {opens[:5]} to {closes[:5]}")
    return "; ".join(parts) or _text(service.get("schedule_description"))


def from_open_referral(data: Any, needs: tuple[Need, ...], path: Path) -> Directory:
    """Import services in the Open Referral UK shape (a list, or ``{"content": [...]}``).

    Taxonomy terms become needs: a term whose id or name matches a need key keeps it;
    any other term becomes a new need named after the term.
    """
    services = data.get("content") or data.get("services") if isinstance(data, dict) else data
    if not isinstance(services, list) or not services:
        raise DirectoryError(str(path), ["expected a list of Open Referral UK services"])
    known = {n.key: n for n in needs}
    extra: dict[str, Need] = {}
    rows: list[dict[str, Any]] = []
    area = ""
    for service in services:
        if not isinstance(service, Mapping):
            rows.append({})
            continue
        need_keys = []
        for link in service.get("service_taxonomys") or []:
            term = link.get("taxonomy") or {}
            term_key = _slug(str(term.get("id") or ""))
            name = str(term.get("name") or term.get("id") or "").strip()
            key = term_key if term_key in known else _slug(name)
            if not key:
                continue
            if key not in known and key not in extra:
                extra[key] = Need(key=key, label=name, synonyms=(name.lower(),))
            need_keys.append(key)
        contact = _first(service.get("contacts")) or {}
        phone_row = _first(contact.get("phones")) or _first(service.get("phones")) or {}
        eligibility = _first(service.get("eligibilitys")) or {}
        service_area = _first(service.get("service_areas")) or {}
        area = area or _slug(str(service_area.get("service_area") or ""))
        description = str(service.get("description") or "").strip()
        summary = re.split(r"(?<=[.!?])\s", description, maxsplit=1)[0] if description else ""
        rows.append(
            {
                "key": _slug(str(service.get("id") or service.get("name") or "")),
                "name": service.get("name"),
                "kind": "service",
                "summary": summary,
                "needs": need_keys,
                "age_min": service.get("minimum_age", eligibility.get("minimum_age")),
                "age_max": service.get("maximum_age", eligibility.get("maximum_age")),
                "area": _slug(str(service_area.get("service_area") or "")),
                "phone": phone_row.get("number"),
                "email": service.get("email") or contact.get("email"),
                "web": service.get("url"),
                "hours": _oruk_schedule(service),
                "how_to_refer": service.get("application_process"),
                "last_checked": service.get("assured_date"),
            }
        )
    sample = bool(data.get("sample_data", False)) if isinstance(data, dict) else False
    all_needs = tuple(needs) + tuple(extra.values())
    return _build({"entries": rows, "area": area, "sample_data": sample}, all_needs, str(path))
