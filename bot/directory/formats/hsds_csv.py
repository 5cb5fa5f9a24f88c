"""HSDS as CSV tables: the 1.x data package and the 3.0 tables, joined into services.

Followed: ``openreferral/sample-HSDS-datapackage`` (HSDS 1.1: ``datapackage.json`` listing
``services.csv``, ``organizations.csv``, ``phones.csv``, ``contacts.csv``,
``regular_schedules.csv`` with an integer ``weekday``, ``eligibility.csv``,
``services_taxonomy.csv`` + ``taxonomy.csv`` with a ``vocabulary``, ``service_areas.csv``,
``languages.csv``, ``locations.csv``, ``services_at_location.csv``,
``physical_addresses.csv``, ``accessibility_for_disabilities.csv``), the ORUK extension
``cost_option.csv``, and ``openreferral/specification`` ``examples/csv`` (HSDS 3.0:
``schedules.csv``, ``attributes.csv`` linking ``taxonomy_terms.csv`` to a service by
``link_id``, ``taxonomies.csv``, ``service_at_location.csv``, ``addresses.csv``,
``accessibility.csv``, ``cost_options.csv``, ``languages.csv`` with ``name``).

The tables are joined into the nested shape of the JSON API (each child keeps its CSV row
in ``_where`` for the report), then read by :mod:`bot.directory.formats.oruk`.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Each table by its data package resource name, and the file names it goes by.
TABLES: dict[str, tuple[str, ...]] = {
    "service": ("services.csv",),
    "organization": ("organizations.csv", "organisations.csv"),
    "phone": ("phones.csv",),
    "contact": ("contacts.csv",),
    "location": ("locations.csv",),
    "service_at_location": (
        "services_at_location.csv", "service_at_location.csv", "service_at_locations.csv",
    ),
    "regular_schedule": ("regular_schedules.csv",),
    "schedule": ("schedules.csv",),
    "eligibility": ("eligibility.csv", "eligibilitys.csv"),
    "service_area": ("service_areas.csv",),
    "language": ("languages.csv",),
    "physical_address": ("physical_addresses.csv",),
    "address": ("addresses.csv",),
    "accessibility_for_disabilities": ("accessibility_for_disabilities.csv",),
    "accessibility": ("accessibility.csv",),
    "service_taxonomy": ("services_taxonomy.csv", "service_taxonomy.csv", "service_taxonomys.csv"),
    "taxonomy": ("taxonomy.csv", "taxonomies.csv"),
    "taxonomy_term": ("taxonomy_terms.csv",),
    "attribute": ("attributes.csv",),
    "cost_option": ("cost_options.csv", "cost_option.csv"),
}  # fmt: skip


class PackageError(ValueError):
    """A data package that cannot be read; the message says which file and why."""


def is_package(path: Path) -> bool:
    """A folder or zip with services.csv, a datapackage.json, or a services.csv itself."""
    if path.is_dir():
        return (path / "services.csv").is_file() or (path / "datapackage.json").is_file()
    return path.name in ("datapackage.json", "services.csv") or path.suffix.lower() == ".zip"


class _Files:
    """Reads the package's files from a folder or a zip file."""

    def __init__(self, path: Path) -> None:
        self.zip: zipfile.ZipFile | None = None
        self.folder = path if path.is_dir() else path.parent
        self.prefix = ""
        if path.suffix.lower() == ".zip":
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise PackageError(f"{path.name} is not a readable zip file: {exc}") from exc
            names = self.zip.namelist()
            found = next((n for n in names if n.endswith(("services.csv", "datapackage.json"))), "")
            self.prefix = found.rsplit("/", 1)[0] + "/" if "/" in found else ""

    def read(self, name: str) -> str | None:
        if self.zip is not None:
            try:
                return self.zip.read(self.prefix + name).decode("utf-8-sig")
            except KeyError:
                return None
        file = self.folder / name
        return file.read_text(encoding="utf-8-sig") if file.is_file() else None


def _resource_paths(files: _Files) -> dict[str, str]:
    """Table name -> file name, from datapackage.json when there is one."""
    paths = {}
    text = files.read("datapackage.json")
    if text:
        try:
            package = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PackageError(f"datapackage.json is not valid JSON: {exc}") from exc
        for resource in package.get("resources") or [] if isinstance(package, dict) else []:
            if isinstance(resource, Mapping) and resource.get("name") and resource.get("path"):
                paths[str(resource["name"])] = str(resource["path"])
    return paths


def read_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    """Every known table of the package, each row with ``_where`` ("phones.csv row 3")."""
    files = _Files(path)
    listed = _resource_paths(files)
    tables: dict[str, list[dict[str, str]]] = {}
    for table, names in TABLES.items():
        for name in ([listed[table]] if table in listed else []) + list(names):
            text = files.read(name)
            if text is None:
                continue
            rows = []
            for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=1):
                cleaned = {
                    str(k).strip(): (v or "").strip() for k, v in row.items() if k is not None
                }
                cleaned["_where"] = f"{Path(name).name} row {number}"
                rows.append(cleaned)
            tables[table] = rows
            break
    if "service" not in tables:
        raise PackageError("no services.csv: an HSDS data package has one row per service there")
    return tables


def services_from_tables(tables: dict[str, list[dict[str, str]]]) -> list[dict[str, Any]]:
    """Join the tables into one nested service object per row of services.csv."""

    cache: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}

    def by(table: str, column: str) -> dict[str, list[dict[str, Any]]]:
        """Rows of ``table`` by the value of ``column`` (built once per table and column)."""
        if (table, column) not in cache:
            index: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in tables.get(table, []):
                if row.get(column):
                    index[row[column]].append(row)
            cache[table, column] = index
        return cache[table, column]

    def one(table: str) -> dict[str, dict[str, Any]]:
        return {row["id"]: row for row in tables.get(table, []) if row.get("id")}

    schedule_table = "schedule" if "schedule" in tables else "regular_schedule"
    organisations, locations = one("organization"), one("location")
    taxonomy, terms, vocabularies = one("taxonomy"), one("taxonomy_term"), one("taxonomy")

    def phones(column: str, owner: str) -> list[dict[str, Any]]:
        return by("phone", column).get(owner, [])

    def with_phones(row: Mapping[str, Any], column: str) -> dict[str, Any]:
        return {**row, "phones": phones(column, str(row.get("id", "")))}

    def location(location_id: str) -> dict[str, Any]:
        row = locations.get(location_id, {"id": location_id})
        return {
            **with_phones(row, "location_id"),
            "addresses": by("address", "location_id").get(location_id, [])
            + by("physical_address", "location_id").get(location_id, []),
            "accessibility": by("accessibility", "location_id").get(location_id, [])
            + by("accessibility_for_disabilities", "location_id").get(location_id, []),
            "schedules": by(schedule_table, "location_id").get(location_id, []),
            "languages": by("language", "location_id").get(location_id, []),
        }

    services = []
    attributes = by("attribute", "link_id")
    links = by("service_taxonomy", "service_id")
    for row in tables["service"]:
        sid = row.get("id", "")
        org = organisations.get(row.get("organization_id", ""), {})
        organisation = {
            **with_phones(org, "organization_id"),
            "contacts": [
                with_phones(c, "contact_id")
                for c in by("contact", "organization_id").get(org.get("id", ""), [])
                if not c.get("service_id")
            ],
        } if org else {}  # fmt: skip
        at_locations = [
            {
                **with_phones(at, "service_at_location_id"),
                "schedules": by(schedule_table, "service_at_location_id").get(at.get("id", ""), []),
                "location": location(at.get("location_id", "")),
            }
            for at in by("service_at_location", "service_id").get(sid, [])
        ]
        service_terms = [
            {"taxonomy": taxonomy.get(link.get("taxonomy_id", ""), {"id": link.get("taxonomy_id")})}
            for link in links.get(sid, [])
        ] + [
            {"taxonomy": taxonomy.get(term_id.strip(), {"id": term_id.strip()})}
            for term_id in (row.get("taxonomy_ids") or "").split(",") if term_id.strip()
        ]  # fmt: skip
        service_attributes = []
        for attribute in attributes.get(sid, []):
            if attribute.get("link_entity") not in (None, "", "service", "link_entity"):
                continue
            term = dict(terms.get(attribute.get("taxonomy_term_id", ""), {}))
            if not term:
                term = {"id": attribute.get("taxonomy_term_id", "")}
            vocabulary = vocabularies.get(term.get("taxonomy_id", ""), {})
            if not term.get("taxonomy") and vocabulary.get("name"):
                term["taxonomy"] = vocabulary["name"]
            service_attributes.append({**attribute, "taxonomy_term": term})
        services.append(
            {
                **row,
                "organization": organisation,
                "phones": phones("service_id", sid),
                "contacts": [
                    with_phones(c, "contact_id") for c in by("contact", "service_id").get(sid, [])
                ],
                "schedules": by(schedule_table, "service_id").get(sid, []),
                "eligibilitys": by("eligibility", "service_id").get(sid, []),
                "service_areas": by("service_area", "service_id").get(sid, []),
                "languages": by("language", "service_id").get(sid, []),
                "cost_options": by("cost_option", "service_id").get(sid, []),
                "service_at_locations": at_locations,
                "service_taxonomys": service_terms,
                "attributes": service_attributes,
            }
        )
    return services
