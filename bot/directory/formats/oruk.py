"""Open Referral services as councils publish them, in every shape seen in the wild.

Followed, field by field:

* HSDS 3.0 / Open Referral UK 3.0: ``openreferral/specification`` ``schema/service.json``
  and its children (``phone.json``, ``schedule.json``, ``service_area.json``,
  ``attribute.json``, ``taxonomy_term.json``, ``language.json``, ``cost_option.json``,
  ``accessibility.json``, ``location.json``, ``service_at_location.json``), the examples
  ``examples/service_full.json`` and ``examples/service_list.json`` (a page is
  ``{"total_items", "total_pages", "page_number", ..., "contents": [...]}``), and the UK
  profile (``OpenReferralUK/uk-profile``, which adds ``service_areas[].service_area``).
* Open Referral UK 1.x (``OpenReferralUK/human-services``, ``ExtendedDataPackage.json``):
  ``service_taxonomys[].taxonomy`` with a ``vocabulary``, ``eligibilitys[]`` with
  ``minimum_age``/``maximum_age``, ``regular_schedules[]`` with an integer ``weekday`` or
  ``byday``, ``service_at_locations[].location.physical_addresses`` and
  ``accessibility_for_disabilities``, pages as ``{"content": [...], "totalPages": ...}``.
* The DfE Family Hubs service directory API writes the same things in camelCase
  (``regularSchedules``, ``opensAt`` as an ISO date and time, ``eligibilities``,
  ``serviceAreas[].serviceAreaName``, ``contacts[].telephone``, ``taxonomies[].name``):
  keys are turned into snake_case first, so they read the same way.

Anything that is not the expected shape is noted and left out; it never stops the import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.directory.drafts import Draft, PhoneValue
from bot.directory.easyread import plain_text
from bot.directory.schedules import render_hours
from bot.directory.taxonomy import TaxonomyMap, Term, ages_from_term

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
PAGE_KEYS = ("contents", "content", "services", "items", "data")
ACTIVE = "active"
MAX_AREA_WORDS = 6  # a longer service area is a sentence, not a place name


class ShapeError(ValueError):
    """A document that is not Open Referral services at all; the message says what it is."""


def snake(data: Any) -> Any:
    """``data`` with every camelCase key written in snake_case (``opensAt`` -> ``opens_at``)."""
    if isinstance(data, Mapping):
        return {
            (
                k if isinstance(k, str) and k.islower() else _CAMEL.sub(r"_\1", str(k)).lower()
            ): snake(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [snake(v) for v in data]
    return data


def services_in(document: Any) -> tuple[list[Any], dict[str, Any]]:
    """The services in a document, and its page details (empty for a plain list).

    A document is a list of services, a page (``contents``, or ``content`` in ORUK 1.x),
    or one service object.
    """
    if isinstance(document, list):
        return document, {}
    if not isinstance(document, Mapping):
        raise ShapeError(
            "expected Open Referral services: a list, a page with 'contents', or one service"
        )
    for key in PAGE_KEYS:
        if key in document:
            items = document[key]
            if isinstance(items, Mapping):
                items = [items]
            if not isinstance(items, list):
                raise ShapeError(f"'{key}' should be a list of services, not {_kind(items)}")
            return items, page_details(document)
    if "name" in document and ("id" in document or "description" in document):
        return [document], {}
    keys = ", ".join(sorted(str(k) for k in document)[:8])
    raise ShapeError(
        "expected Open Referral services: a list, a page with 'contents', or one service "
        f"with an 'id' and a 'name'; found the keys {keys}"
    )


def page_details(document: Mapping[str, Any]) -> dict[str, Any]:
    """Page number, total pages and total items of an HSDS 3.0 or ORUK 1.x page."""
    flat = snake(dict(document))
    details = {}
    for ours, names in (
        ("page", ("page_number", "number", "page")),
        ("total_pages", ("total_pages",)),
        ("total_items", ("total_items", "total_elements", "total")),
        ("last", ("last_page", "last")),
    ):
        for name in names:
            if name in flat and not isinstance(flat[name], list | Mapping):
                details[ours] = flat[name]
                break
    return details


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "text" if isinstance(value, str) else type(value).__name__


def _text(value: Any) -> str:
    if value is None or isinstance(value, list | Mapping):
        return ""
    return " ".join(str(value).split())


def _items(parent: Mapping[str, Any], key: str, path: str, notes: list[str]) -> list[Any]:
    """``parent[key]`` as a list of objects: one object is read as a list of one; anything
    else is noted and left out."""
    value = parent.get(key)
    if value in (None, "", []):
        return []
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, list):
        notes.append(f"{path} should be a list, not {_kind(value)}; left out")
        return []
    kept = []
    for number, item in enumerate(value):
        if isinstance(item, Mapping):
            kept.append(item)
        else:
            notes.append(f"{path}[{number}] should be an object, not {_kind(item)}; left out")
    return kept


def _object(parent: Mapping[str, Any], key: str, path: str, notes: list[str]) -> Mapping[str, Any]:
    value = parent.get(key)
    if value in (None, ""):
        return {}
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return value[0]
    if not isinstance(value, Mapping):
        notes.append(f"{path} should be an object, not {_kind(value)}; left out")
        return {}
    return value


def describe(number: int, service: Any, label: str = "service") -> str:
    """ "service 3 (id 'a1', 'Riverside Play')": how the report names a row."""
    if not isinstance(service, Mapping):
        return f"{label} {number}"
    label_text = str(service["_where"]) if service.get("_where") else f"{label} {number}"
    bits = []
    if _text(service.get("id")):
        bits.append(f"id '{_text(service.get('id'))}'")
    if _text(service.get("name")):
        bits.append(f"'{_text(service.get('name'))[:60]}'")
    return f"{label_text} ({', '.join(bits)})" if bits else label_text


def draft_from_service(
    raw: Mapping[str, Any], where: str, taxonomy: TaxonomyMap, path: str = ""
) -> Draft:
    """Read one Open Referral service (any version) into a :class:`Draft`."""
    service = snake(dict(raw))
    notes: list[str] = []
    prefix = f"{path}." if path else ""
    draft = Draft(where=where)
    draft.source_id = _text(service.get("id")) or None
    draft.name = _text(service.get("name")) or None
    draft.status = _text(service.get("status")).lower() or None
    draft.last_checked = service.get("assured_date") or service.get("assuredDate")
    draft.description = plain_text(str(service.get("description") or ""))
    summary = service.get("summary") or service.get("short_description")
    draft.summary = plain_text(str(summary)) if summary else None
    draft.fields.update(
        summary="summary" if service.get("summary") else "short_description",
        name=f"{prefix}name",
    )
    organisation = _object(service, "organization", f"{prefix}organization", notes)
    draft.organisation = _text(organisation.get("name")) or None
    draft.web, draft.fields["web"] = _first_value(
        (service, "url", "url"),
        (service, "website", "website"),
        (organisation, "website", "organization.website"),
        (organisation, "url", "organization.url"),
    )
    if isinstance(draft.web, str) and draft.web.lower().startswith("mailto:"):
        draft.web = None
    contacts = _items(service, "contacts", "contacts", notes)
    locations = _locations(service, notes)
    if draft.web is None:
        draft.web, draft.fields["web"] = _first_value(
            *((c, "url", f"contacts[{i}].url") for i, c in enumerate(contacts)),
            (service, "url", "url"),
        )
    draft.email, draft.fields["email"] = _first_value(
        (service, "email", "email"),
        *((c, "email", f"contacts[{i}].email") for i, c in enumerate(contacts)),
        (organisation, "email", "organization.email"),
    )
    draft.how_to_refer = _text(service.get("application_process")) or None
    draft.fields["how_to_refer"] = "application_process"
    draft.phones = _phones(service, contacts, locations, organisation, notes)
    _read_ages(draft, service, notes)
    _read_terms(draft, service, taxonomy, notes)
    draft.hours = _hours(service, locations, notes)
    draft.area = _area(service, notes)
    draft.languages = _languages(service, locations, notes)
    draft.cost = _cost(service, notes)
    draft.accessibility = _accessibility(locations, notes)
    draft.address = _address(locations, notes)
    draft.notes = notes
    return draft


def _first_value(*candidates: tuple[Mapping[str, Any], str, str]) -> tuple[Any, str]:
    for parent, key, name in candidates:
        value = parent.get(key)
        if value not in (None, "") and not isinstance(value, list | Mapping):
            return value, name
    return None, candidates[0][2]


def _locations(service: Mapping[str, Any], notes: list[str]) -> list[tuple[str, Mapping[str, Any]]]:
    """(path, service_at_location) pairs; a location given directly counts as one too."""
    found = []
    for number, at in enumerate(
        _items(service, "service_at_locations", "service_at_locations", notes)
    ):
        found.append((f"service_at_locations[{number}]", at))
    for number, location in enumerate(_items(service, "locations", "locations", notes)):
        found.append((f"locations[{number}]", {"location": location}))
    return found


def _phones(
    service: Mapping[str, Any],
    contacts: list[Mapping[str, Any]],
    locations: list[tuple[str, Mapping[str, Any]]],
    organisation: Mapping[str, Any],
    notes: list[str],
) -> list[PhoneValue]:
    """Every phone, the service's own first, then its contacts', locations', organisation's."""
    phones: list[PhoneValue] = []

    def add(parent: Mapping[str, Any], path: str) -> None:
        for number, phone in enumerate(_items(parent, "phones", f"{path}phones", notes)):
            phones.append(
                PhoneValue(
                    field=f"{phone['_where']} number"
                    if phone.get("_where")
                    else f"{path}phones[{number}].number",
                    number=phone.get("number"),
                    extension=phone.get("extension"),
                    type=_text(phone.get("type")).lower(),
                )
            )
        for key in ("telephone", "phone"):
            if _text(parent.get(key)):
                phones.append(PhoneValue(f"{path}{key}", parent.get(key), None, "voice"))
        if _text(parent.get("text_phone")):
            phones.append(PhoneValue(f"{path}text_phone", parent.get("text_phone"), None, "text"))

    add(service, "")
    for number, contact in enumerate(contacts):
        add(contact, f"contacts[{number}].")
    for path, at in locations:
        add(at, f"{path}.")
        for number, contact in enumerate(_items(at, "contacts", f"{path}.contacts", notes)):
            add(contact, f"{path}.contacts[{number}].")
        location = _object(at, "location", f"{path}.location", notes)
        add(location, f"{path}.location.")
    add(organisation, "organization.")
    for number, contact in enumerate(
        _items(organisation, "contacts", "organization.contacts", notes)
    ):
        add(contact, f"organization.contacts[{number}].")
    return phones


def _read_ages(draft: Draft, service: Mapping[str, Any], notes: list[str]) -> None:
    """Ages from the service (3.0) or across every eligibility band (1.x, DfE)."""
    draft.zero_max_age_is_unset = True
    if service.get("minimum_age") not in (None, "") or service.get("maximum_age") not in (None, ""):
        draft.age_min, draft.age_max = service.get("minimum_age"), service.get("maximum_age")
        draft.fields.update(age_min="minimum_age", age_max="maximum_age")
    bands = []
    texts = []
    for key in ("eligibilitys", "eligibilities", "eligibility"):
        value = service.get(key)
        if isinstance(value, str):
            texts.append(_text(value))
            continue
        for number, band in enumerate(_items(service, key, key, notes)):
            bands.append((number, key, band))
            text = _text(band.get("eligibility") or band.get("eligibility_type"))
            if text and not text.isdigit():
                texts.append(text)
    if draft.age_min is None and draft.age_max is None and bands:
        lows = [b.get("minimum_age") for _, _, b in bands if b.get("minimum_age") not in (None, "")]
        highs = [
            b.get("maximum_age") for _, _, b in bands if b.get("maximum_age") not in (None, "")
        ]
        key = bands[0][1]
        draft.age_min = _smallest(lows)
        draft.age_max = _largest(highs)
        draft.fields.update(age_min=f"{key}[].minimum_age", age_max=f"{key}[].maximum_age")
    described = _text(service.get("eligibility_description"))
    draft.eligibility = "; ".join(dict.fromkeys(t for t in [described, *texts] if t)) or None


def _smallest(values: list[Any]) -> Any:
    numbers = [v for v in values if _number(v) is not None]
    return (
        min(numbers, key=lambda v: _number(v) or 0) if numbers else (values[0] if values else None)
    )


def _largest(values: list[Any]) -> Any:
    numbers = [v for v in values if _number(v) is not None]
    return (
        max(numbers, key=lambda v: _number(v) or 0) if numbers else (values[0] if values else None)
    )


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _read_terms(
    draft: Draft, service: Mapping[str, Any], taxonomy: TaxonomyMap, notes: list[str]
) -> None:
    """Taxonomy terms (3.0 attributes, 1.x service_taxonomys, DfE taxonomies)."""
    terms: list[Term] = []
    for number, attribute in enumerate(_items(service, "attributes", "attributes", notes)):
        term = _object(attribute, "taxonomy_term", f"attributes[{number}].taxonomy_term", notes)
        if not term and _text(attribute.get("taxonomy_term_id")):
            term = {"id": attribute.get("taxonomy_term_id")}
        if term:
            detail = term.get("taxonomy_detail")
            vocabulary = _text(term.get("taxonomy")) or (
                _text(detail.get("name")) if isinstance(detail, Mapping) else ""
            )
            terms.append(_term(term, vocabulary or _text(term.get("taxonomy_id"))))
    for number, link in enumerate(_items(service, "service_taxonomys", "service_taxonomys", notes)):
        term = _object(link, "taxonomy", f"service_taxonomys[{number}].taxonomy", notes)
        if term:
            terms.append(_term(term, _text(term.get("vocabulary"))))
    for key in ("taxonomies", "taxonomy_terms"):
        for term in _items(service, key, key, notes):
            terms.append(_term(term, _text(term.get("vocabulary") or term.get("taxonomy"))))
    draft.fields["needs"] = (
        "attributes[].taxonomy_term" if service.get("attributes") else "service_taxonomys"
    )
    for found in dict.fromkeys(terms):
        draft.terms.append(found)
        if taxonomy.ignored(found):
            ages = ages_from_term(found.name)
            if ages:
                draft.age_terms.append(ages)


def _term(raw: Mapping[str, Any], vocabulary: str) -> Term:
    return Term(
        name=_text(raw.get("name")),
        id=_text(raw.get("id")),
        code=_text(raw.get("code")),
        vocabulary=vocabulary,
    )


def _hours(
    service: Mapping[str, Any], locations: list[tuple[str, Mapping[str, Any]]], notes: list[str]
) -> str | None:
    """The service's own schedules, else its first location's."""
    sources: list[tuple[Mapping[str, Any], str]] = [(service, "")]
    for path, at in locations:
        sources.append((at, f"{path}."))
        sources.append((_object(at, "location", f"{path}.location", []), f"{path}.location."))
    for parent, path in sources:
        slots: list[Any] = []
        for key in ("schedules", "regular_schedules"):
            slots.extend(_items(parent, key, f"{path}{key}", notes))
        if slots:
            hours, problems = render_hours(slots)
            notes.extend(f"{path}schedules: {problem}; left out" for problem in problems)
            if hours:
                return hours
    return None


def _area(service: Mapping[str, Any], notes: list[str]) -> str:
    for area in _items(service, "service_areas", "service_areas", notes):
        name = _text(area.get("service_area") or area.get("name") or area.get("service_area_name"))
        if name and len(name.split()) <= MAX_AREA_WORDS:
            return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:64]
    return ""


def _languages(
    service: Mapping[str, Any], locations: list[tuple[str, Mapping[str, Any]]], notes: list[str]
) -> list[str]:
    found: list[str] = []
    parents = [service] + [_object(at, "location", "", []) for _, at in locations]
    for parent in parents:
        for language in _items(parent, "languages", "languages", notes):
            name = _text(language.get("name") or language.get("language") or language.get("code"))
            if name:
                found.append(name)
        if isinstance(parent.get("languages"), str):
            found.extend(p.strip() for p in str(parent["languages"]).split(",") if p.strip())
    return list(dict.fromkeys(found))


def _cost(service: Mapping[str, Any], notes: list[str]) -> str | None:
    parts = []
    for option in _items(service, "cost_options", "cost_options", notes):
        amount = _number(option.get("amount"))
        described = _text(option.get("amount_description"))
        condition = _text(option.get("option"))
        if amount == 0:
            text, described = "Free", ""
        elif amount is not None:
            currency = _text(option.get("currency")).lower()
            symbol = "£" if currency in ("", "gbp") else f"{currency.upper()} "
            text = f"{symbol}{amount:g}"
        else:
            text = ""
        text = " ".join(t for t in (text, described) if t)
        if condition and condition.lower() != text.lower():
            text = f"{text} ({condition})" if text else condition
        if text:
            parts.append(text)
    fees = _text(service.get("fees_description") or service.get("fees"))
    if not parts and fees and fees not in ("fees", "fees_description"):
        parts.append(fees)
    return "; ".join(dict.fromkeys(parts)) or None


def _accessibility(locations: list[tuple[str, Mapping[str, Any]]], notes: list[str]) -> str | None:
    found = []
    for path, at in locations:
        location = _object(at, "location", f"{path}.location", notes)
        for key in ("accessibility", "accessibility_for_disabilities"):
            for item in _items(location, key, f"{path}.location.{key}", notes):
                text = _text(item.get("description") or item.get("accessibility"))
                if text:
                    found.append(text.replace("_", " "))
    return "; ".join(dict.fromkeys(found)) or None


def _address(locations: list[tuple[str, Mapping[str, Any]]], notes: list[str]) -> str | None:
    """The first physical location: its name, street, town and postcode."""
    for path, at in locations:
        location = _object(at, "location", f"{path}.location", notes)
        if _text(location.get("location_type")).lower() in ("virtual", "postal"):
            continue
        parts = [_text(location.get("name"))]
        parts += [_text(location.get(f)) for f in ("address1", "address_1", "city", "post_code")]
        for key in ("addresses", "physical_addresses"):
            for address in _items(location, key, f"{path}.location.{key}", notes)[:1]:
                if _text(address.get("address_type")).lower() == "postal":
                    continue
                parts += [
                    _text(address.get(field)) for field in ("address_1", "city", "postal_code")
                ]
        text = ", ".join(dict.fromkeys(p for p in parts if p))
        if text:
            return text
    return None


def all_terms(drafts: Iterable[Draft]) -> list[Term]:
    return [term for draft in drafts for term in draft.terms]
