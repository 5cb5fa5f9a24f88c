"""The council officer's own files: YAML (``data/directory/telford_wrekin.yml``) or a CSV
with the same columns, one row per entry, lists separated by ``;``."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.directory.drafts import Draft, PhoneValue

TRUE_WORDS = ("true", "yes", "1")


class FileShapeError(ValueError):
    """A file that is not a directory at all; the message says why."""


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FileShapeError(f"not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise FileShapeError(f"not a text file in UTF-8: {exc}") from exc
    if not isinstance(data, dict):
        raise FileShapeError("expected a mapping at the top of the file")
    return data


def read_csv(path: Path) -> dict[str, Any]:
    """Read the officer's CSV: one row per entry, lists separated by ';'."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileShapeError(f"not a readable CSV file in UTF-8: {exc}") from exc
    entries = []
    for row in rows:
        entry: dict[str, Any] = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        for list_field in ("needs", "keywords"):
            entry[list_field] = [
                p.strip() for p in entry.get(list_field, "").split(";") if p.strip()
            ]
        entries.append(entry)
    area = entries[0].get("area", "") if entries else ""
    sample = any(str(e.get("sample_data", "")).lower() in TRUE_WORDS for e in entries)
    return {"entries": entries, "area": area, "sample_data": sample}


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file (empty when it cannot be read)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [c.strip() for c in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(";") if p.strip()]
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()]


def drafts_from_entries(raw_entries: list[Any]) -> list[Draft | str]:
    """One draft per row; a row that is not a mapping gives the reason instead."""
    drafts: list[Draft | str] = []
    for index, raw in enumerate(raw_entries, start=1):
        where = f"row {index}"
        if not isinstance(raw, Mapping):
            drafts.append(f"{where}: expected a mapping of fields")
            continue
        key = str(raw.get("key") or "").strip()
        draft = Draft(where=f"{where} (key '{key}')" if key else where, key=key)
        draft.name = raw.get("name")
        draft.kind = raw.get("kind") or "service"
        draft.summary = raw.get("summary")
        draft.description = str(raw.get("description") or "").strip()
        draft.needs = _as_list(raw.get("needs"))
        draft.age_min, draft.age_max = raw.get("age_min"), raw.get("age_max")
        if raw.get("phone") not in (None, ""):
            draft.phones.append(PhoneValue("phone", raw.get("phone"), None, "voice"))
        for number in _as_list(raw.get("more_phones")):
            draft.phones.append(PhoneValue("more_phones", number, None, "voice"))
        draft.email, draft.web = raw.get("email"), raw.get("web")
        draft.hours = str(raw.get("hours") or "").strip() or None
        draft.how_to_refer = raw.get("how_to_refer")
        draft.area = str(raw.get("area") or "").strip()
        draft.keywords = [k.lower() for k in _as_list(raw.get("keywords"))]
        for field in ("organisation", "address", "eligibility", "cost", "accessibility"):
            value = str(raw.get(field) or "").strip()
            setattr(draft, field, value or None)
        draft.languages = _as_list(raw.get("languages"))
        draft.last_checked = raw.get("last_checked")
        draft.checked_by = raw.get("checked_by")
        draft.fields.update(summary="summary", needs="needs")
        drafts.append(draft)
    return drafts
