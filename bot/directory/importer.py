"""Read a directory from any source a council has, and keep every row that can be kept.

Sources (by what the path or address is):

* a council officer's YAML or CSV file (``key``, ``name``, ``summary``, ``needs``, ...);
* Open Referral JSON: HSDS / Open Referral UK 3.0 (a page with ``contents``, or one
  service), the older ORUK 1.x shape, and the DfE Family Hubs camelCase one;
* an HSDS CSV data package (1.x, or the 3.0 tables): a folder, its ``datapackage.json``
  or ``services.csv``, or a zip file;
* a live Open Referral API, fetched page by page (an ``http(s)://`` address).

Every row is checked on its own. A row that cannot be used (no name, nothing to say what
it does, an id used twice, sample data with a real number) is skipped; a value that cannot
be used (a phone that is not a UK number, a web address that is not one) is left out of a
row that is otherwise kept. Both are listed with the source's own field names, and
:attr:`ImportResult.exit_code` says so. Inactive services are not imported, and said so.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.directory.drafts import Draft
from bot.directory.easyread import MAX_SUMMARY_WORDS, easy_summary, plain_text
from bot.directory.formats import hsds_csv, oruk, yaml_csv
from bot.directory.formats.fetch import FetchError, fetch_services
from bot.directory.phones import PhoneError, is_fiction_or_helpline, parse_phone
from bot.directory.records import KINDS, MAX_AGE, Directory, Entry, Need
from bot.directory.taxonomy import (
    TaxonomyMap,
    TaxonomyMapError,
    Term,
    default_map_path,
    load_taxonomy_map,
)

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_]{1,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DOMAIN_RE = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(/\S*)?$", re.I)
NOT_ACTIVE = ("inactive", "defunct", "temporarily closed")
# Column sizes (bot/directory/models.py): longer values are left out, not cut.
MAX_LENGTHS = {"name": 200, "phone": 40, "email": 200, "web": 500}

# Exit codes of `python -m bot directory import` (README: "Loading a council's own directory").
EXIT_OK = 0  # every row of the source is in the directory as given
EXIT_SKIPPED = 1  # imported, but some rows were skipped or some values left out
EXIT_NOTHING = 2  # nothing imported: the source cannot be read or no row could be used
EXIT_FETCH_FAILED = 3  # the live feed could not be read completely: nothing changed


class DirectoryError(ValueError):
    """A directory that cannot be imported at all; ``problems`` says why."""

    def __init__(self, source: str, problems: list[str], exit_code: int = EXIT_NOTHING) -> None:
        self.source = source
        self.problems = problems
        self.exit_code = exit_code
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{listed}")


@dataclass
class ImportResult:
    """A directory read from a source, and everything a person should know about it."""

    directory: Directory
    skipped: list[str] = field(default_factory=list)  # rows left out, and why
    left_out: list[str] = field(default_factory=list)  # values left out of kept rows
    not_imported: list[str] = field(default_factory=list)  # inactive, or not for 0-25s
    rewrite: list[str] = field(default_factory=list)  # summaries cut from a description
    unmapped: list[tuple[Term, int]] = field(default_factory=list)  # terms, services each
    without_need: list[str] = field(default_factory=list)  # entry keys with no need
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # every page of the source was read (needed for --replace)

    @property
    def exit_code(self) -> int:
        if not self.directory.entries:
            return EXIT_NOTHING
        return EXIT_SKIPPED if self.skipped or self.left_out else EXIT_OK


@dataclass(frozen=True)
class ReadOptions:
    """How to read a source: need taxonomy, taxonomy mapping and the source's name."""

    needs_path: Path | None = None
    taxonomy_map: Path | None = None  # None: data/directory/taxonomy_map.yml
    source: str | None = None  # None: the file's name, or the feed's host
    per_page: int | None = None


def default_needs_path() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "directory" / "needs.yml"


def source_name(location: str) -> str:
    """The default name of a source: a file's name, or a feed's host and path."""
    if re.match(r"^https?://", location):
        return re.sub(r"^https?://", "", location).split("?")[0].rstrip("/")[:300]
    path = Path(location)
    if path.name in ("datapackage.json", "services.csv") and path.parent.name:
        return path.parent.name  # a data package is named by its folder
    return path.name


def read_source(location: str | Path, options: ReadOptions | None = None) -> ImportResult:
    """Read a file, folder, zip or live feed; raise :class:`DirectoryError` only when nothing
    at all can be imported."""
    options = options or ReadOptions()
    text = str(location)
    source = options.source or source_name(text)
    if re.match(r"^https?://", text):
        needs = _needs_for(None, options)
        taxonomy = _taxonomy(options, needs, text)
        try:
            fetched = fetch_services(text, per_page=options.per_page)
        except FetchError as exc:
            raise DirectoryError(text, [str(exc)], EXIT_FETCH_FAILED) from exc
        result = from_services(fetched.services, needs, taxonomy, source)
        result.notes.insert(0, f"Read {fetched.pages} page(s), {len(fetched.services)} services.")
        return result
    path = Path(location)
    if not path.exists():
        raise DirectoryError(text, ["file not found"])
    suffix = path.suffix.lower()
    try:
        if hsds_csv.is_package(path) or (
            suffix == ".csv" and "key" not in yaml_csv.csv_header(path)
        ):
            needs = _needs_for(path, options)
            tables = hsds_csv.read_tables(path)
            services = hsds_csv.services_from_tables(tables)
            return from_services(services, needs, _taxonomy(options, needs, text), source)
        if suffix in (".yml", ".yaml"):
            data = yaml_csv.read_yaml(path)
            needs = (
                _needs_from(data.get("needs"), text)
                if "needs" in data
                else _needs_for(path, options)
            )
            return _from_officer_file(data, needs, source)
        if suffix == ".csv":
            return _from_officer_file(yaml_csv.read_csv(path), _needs_for(path, options), source)
        if suffix == ".json":
            return _from_json(path, options, source)
    except (yaml_csv.FileShapeError, hsds_csv.PackageError, oruk.ShapeError) as exc:
        raise DirectoryError(text, [str(exc)]) from exc
    except OSError as exc:
        raise DirectoryError(text, [f"cannot be read: {exc.strerror or exc}"]) from exc
    raise DirectoryError(
        text,
        [f"unknown file type '{suffix}': use .yml, .csv, .json, an HSDS data package or a URL"],
    )


def load_file(path: Path, needs_path: Path | None = None) -> Directory:
    """Import a file strictly: any skipped row or left-out value is an error. For files we
    write ourselves (the sample directory, tests), where nothing should be wrong."""
    result = read_source(path, ReadOptions(needs_path=needs_path))
    problems = result.skipped + result.left_out
    if problems:
        raise DirectoryError(str(path), problems, EXIT_SKIPPED)
    return result.directory


def load_needs(path: Path) -> tuple[Need, ...]:
    """Read the need taxonomy (``needs.yml``)."""
    return _load_needs(path)


def _needs_for(path: Path | None, options: ReadOptions) -> tuple[Need, ...]:
    if options.needs_path is not None:
        return _load_needs(options.needs_path)
    beside = path.with_name("needs.yml") if path is not None and path.is_file() else None
    return _load_needs(beside if beside and beside.is_file() else default_needs_path())


def _taxonomy(options: ReadOptions, needs: Sequence[Need], source: str) -> TaxonomyMap:
    path = options.taxonomy_map or default_map_path()
    try:
        return load_taxonomy_map(
            path if path.is_file() else None, needs, lenient=options.taxonomy_map is None
        )
    except TaxonomyMapError as exc:
        raise DirectoryError(source, [str(exc)]) from exc


def _load_needs(path: Path) -> tuple[Need, ...]:
    if not path.is_file():
        raise DirectoryError(str(path), ["need taxonomy file not found"])
    try:
        data = yaml_csv.read_yaml(path)
    except yaml_csv.FileShapeError as exc:
        raise DirectoryError(str(path), [str(exc)]) from exc
    return _needs_from(data.get("needs"), str(path))


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


def _from_officer_file(
    data: Mapping[str, Any], needs: tuple[Need, ...], source: str
) -> ImportResult:
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise DirectoryError(source, ["'entries' must be a non-empty list"])
    sample = bool(data.get("sample_data", False))
    if isinstance(data.get("sample_data"), str):
        sample = str(data["sample_data"]).lower() in yaml_csv.TRUE_WORDS
    read = yaml_csv.drafts_from_entries(raw_entries)
    result = build(
        [d for d in read if isinstance(d, Draft)],
        needs,
        load_taxonomy_map(None, needs),
        source=source,
        sample=sample,
        area=str(data.get("area") or ""),
    )
    result.skipped[:0] = [d for d in read if isinstance(d, str)]
    return result


def check_officer_entries(
    data: Mapping[str, Any], needs: tuple[Need, ...], source: str
) -> Directory:
    """Officer-file entries checked strictly, as one form is (the staff console): every
    problem, a skipped row or a value that would be left out, raises DirectoryError."""
    result = _from_officer_file(data, needs, source)
    problems = result.skipped + result.left_out
    if problems:
        raise DirectoryError(source, problems)
    return result.directory


def _from_json(path: Path, options: ReadOptions, source: str) -> ImportResult:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise DirectoryError(str(path), [f"not valid JSON: {exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise DirectoryError(str(path), [f"not a text file in UTF-8: {exc}"]) from exc
    services, page = oruk.services_in(document)
    needs = _needs_for(path, options)
    sample = isinstance(document, Mapping) and document.get("sample_data") is True
    result = from_services(services, needs, _taxonomy(options, needs, str(path)), source, sample)
    total = _int(page.get("total_pages"))
    number = _int(page.get("page")) or 1
    if total is not None and total > 1 and page.get("last") is not True and number < total:
        result.complete = False
        result.notes.append(
            f"This file is page {number} of {total}: only its services were read. Import the "
            "feed by its address to read every page (needed for --replace)."
        )
    return result


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def from_services(
    services: Sequence[Any],
    needs: tuple[Need, ...],
    taxonomy: TaxonomyMap,
    source: str,
    sample: bool = False,
) -> ImportResult:
    """Open Referral services (any version, any mix) to a directory and its report."""
    if not services:
        raise DirectoryError(source, ["the source lists no services"])
    drafts: list[Draft] = []
    unreadable: list[str] = []
    for number, service in enumerate(services, start=1):
        where = oruk.describe(number, service)
        if not isinstance(service, Mapping):
            unreadable.append(f"{where}: expected a service object, found {oruk._kind(service)}")
            continue
        try:
            drafts.append(oruk.draft_from_service(service, where, taxonomy))
        except Exception as exc:  # noqa: BLE001 (one odd row must never stop the import)
            unreadable.append(f"{where}: could not be read ({type(exc).__name__}: {exc})")
    result = build(drafts, needs, taxonomy, source=source, sample=sample, open_referral=True)
    result.skipped[:0] = unreadable
    return result


def build(
    drafts: Iterable[Draft],
    needs: tuple[Need, ...],
    taxonomy: TaxonomyMap,
    source: str,
    sample: bool = False,
    area: str = "",
    open_referral: bool = False,
) -> ImportResult:
    """Check every draft; keep the good ones as entries; report the rest."""
    result = ImportResult(directory=Directory(needs=needs, entries=()))
    need_keys = {n.key for n in needs}
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    unmapped: Counter[Term] = Counter()
    for draft in drafts:
        if open_referral and draft.status in NOT_ACTIVE:
            result.not_imported.append(f"{draft.where}: status is '{draft.status}'")
            continue
        entry = _entry(draft, need_keys, taxonomy, area, sample, open_referral, result, unmapped)
        if entry is None:
            continue
        if entry.key in seen:
            name = "id" if open_referral else "key"
            result.skipped.append(
                f"{draft.where}: {name} '{draft.source_id or entry.key}' is used twice "
                f"(first by {seen[entry.key]}); only the first is kept"
            )
            continue
        seen[entry.key] = draft.where
        entries.append(entry)
    result.directory = Directory(
        needs=needs, entries=tuple(entries), area=area, sample_data=sample, source=source
    )
    result.unmapped = sorted(unmapped.items(), key=lambda item: (-item[1], item[0].label))
    result.without_need = [e.key for e in entries if not e.needs]
    return result


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")


def key_for(source_id: str) -> str:
    """Our key for an Open Referral id: ``svc-0001`` -> ``svc_0001``; ``42`` -> ``s_42``."""
    key = _slug(source_id)[:64]
    return key if KEY_RE.match(key) else ("s_" + key)[:64]


def _entry(
    draft: Draft,
    need_keys: set[str],
    taxonomy: TaxonomyMap,
    area: str,
    sample: bool,
    open_referral: bool,
    result: ImportResult,
    unmapped: Counter[Term],
) -> Entry | None:
    """The entry for ``draft``, or None (reported) when the row cannot be used."""
    skip: list[str] = []
    left_out = [f"{draft.where}: {note}" for note in draft.notes]
    where = draft.where
    if open_referral:
        if not draft.source_id:
            skip.append("id is missing (it is needed to update the service later)")
        key = key_for(draft.source_id or "")
    else:
        key = (draft.key or "").strip()
        if not KEY_RE.match(key):
            skip.append("'key' must be lower case letters, digits and _")
    name = " ".join(str(draft.name or "").split())
    if not name:
        skip.append(f"{_quoted(draft, 'name', open_referral)} is missing")
    elif len(name) > MAX_LENGTHS["name"]:
        skip.append(f"{_quoted(draft, 'name', open_referral)} is longer than 200 characters")
    kind = str(draft.kind or "service").strip()
    if kind not in KINDS:
        skip.append(f"'kind' must be one of {', '.join(KINDS)}, not '{kind}'")
    summary, cut = _summary(draft)
    if not summary:
        what = "description" if open_referral else "'summary'"
        skip.append(f"{what} is missing (the assistant needs one line on what it does)")
    needs = _needs(draft, need_keys, taxonomy, open_referral, left_out, unmapped)
    age_min, age_max = _ages(draft, open_referral, skip, left_out)
    phone, phone_dial, more_phones = _phones(draft, sample, skip, left_out)
    email = _email(draft, sample, skip, left_out)
    web = _web(draft, left_out)
    last_checked = _as_date(draft.last_checked, skip)
    if age_min > MAX_AGE:
        result.not_imported.append(
            f"{where}: not for children or young people ({draft.source_field('age_min')} "
            f"{age_min})"
        )
        return None
    if skip:  # the row is out: everything wrong with it is listed, to fix in one go
        result.skipped.extend(f"{where}: {reason}" for reason in skip)
        result.skipped.extend(note.removesuffix("; left out") for note in left_out)
        return None
    result.left_out.extend(left_out)
    if cut:
        result.rewrite.append(f"{where}: '{summary}'")
    return Entry(
        key=key,
        name=name,
        kind=kind,
        summary=summary,
        needs=tuple(needs),
        age_min=age_min,
        age_max=age_max,
        area=draft.area or area,
        phone=phone,
        email=email,
        web=web,
        hours=draft.hours,
        how_to_refer=" ".join(str(draft.how_to_refer or "").split()) or None,
        keywords=tuple(draft.keywords),
        sample_data=sample,
        phone_dial=phone_dial,
        more_phones=tuple(more_phones),
        description=draft.description if draft.description != summary else "",
        organisation=draft.organisation,
        address=draft.address,
        eligibility=draft.eligibility,
        cost=draft.cost,
        languages=tuple(draft.languages),
        accessibility=draft.accessibility,
        taxonomy=tuple(
            dict.fromkeys(t.name for t in draft.terms if t.name and not taxonomy.ignored(t))
        ),
        source_id=draft.source_id,
        last_checked=last_checked,
        checked_by=" ".join(str(draft.checked_by or "").split()) or None,
    )


def _as_date(value: Any, skip: list[str]) -> date | None:
    """A YYYY-MM-DD date (YAML gives a date already); a later date than today is a problem."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            skip.append(f"last_checked '{value}' is not a date like 2026-03-31")
            return None
    if value > date.today():
        skip.append(f"last_checked {value} is in the future")
    return value


def _quoted(draft: Draft, ours: str, open_referral: bool) -> str:
    name = draft.source_field(ours)
    return name if open_referral else f"'{name}'"


def _summary(draft: Draft) -> tuple[str, bool]:
    """The explicit summary when there is one, else one from the description; whether it
    was cut (then a person should rewrite it)."""
    explicit = plain_text(str(draft.summary or "")).strip()
    if explicit:
        if len(explicit.split()) <= MAX_SUMMARY_WORDS:
            return explicit, False
        return easy_summary(explicit)
    return easy_summary(draft.description)


def _needs(
    draft: Draft,
    need_keys: set[str],
    taxonomy: TaxonomyMap,
    open_referral: bool,
    left_out: list[str],
    unmapped: Counter[Term],
) -> list[str]:
    needs: list[str] = []
    unknown = [n for n in draft.needs if n not in need_keys]
    if unknown:
        left_out.append(
            f"{draft.where}: unknown need(s) {', '.join(unknown)} left out; add them to needs.yml"
        )
    needs.extend(n for n in draft.needs if n in need_keys)
    for term in draft.terms:
        mapped = taxonomy.needs_for(term)
        if mapped is None:
            unmapped[term] += 1
        else:
            needs.extend(mapped)
    if not needs and not open_referral:
        left_out.append(f"{draft.where}: 'needs' lists no known need")
    return list(dict.fromkeys(needs))


def _age(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError
    number = float(value)
    if number != int(number) and number > 1:
        raise ValueError
    return int(number)


def _ages(
    draft: Draft, open_referral: bool, skip: list[str], left_out: list[str]
) -> tuple[int, int]:
    """Ages, with 25 as the top: Open Referral's maximum_age 0 (or none) means no limit."""
    values = []
    for ours, default in (("age_min", 0), ("age_max", MAX_AGE)):
        raw = getattr(draft, ours)
        try:
            value = _age(raw)
        except (TypeError, ValueError):
            name = draft.source_field(ours)
            left_out.append(f"{draft.where}: {name} '{raw}' is not a whole number; left out")
            value = None
        if value is not None and value < 0:
            left_out.append(f"{draft.where}: {draft.source_field(ours)} {value} is below 0")
            value = None
        values.append(value if value is not None else default)
        if ours == "age_max" and open_referral and value == 0 and draft.zero_max_age_is_unset:
            values[-1] = MAX_AGE
    low, high = values
    if draft.age_min in (None, "") and draft.age_max in (None, "") and draft.age_terms:
        low = min(a for a, _ in draft.age_terms)
        high = max(b for _, b in draft.age_terms)
    high = min(high, MAX_AGE)
    if low > high and low <= MAX_AGE:
        skip.append(
            f"{draft.source_field('age_min')} {low} is above {draft.source_field('age_max')} "
            f"{high}"
        )
    return low, high


def _phones(
    draft: Draft, sample: bool, skip: list[str], left_out: list[str]
) -> tuple[str | None, str | None, list[str]]:
    """The main number (as typed and for dialling) and the others, as typed."""
    main: tuple[str, str] | None = None
    others: list[str] = []
    for value in draft.phones:
        if value.type in ("fax",):
            continue
        try:
            phone = parse_phone(value.number, value.extension)
        except PhoneError as exc:
            left_out.append(f"{draft.where}: {value.field} '{value.number}' {exc}; left out")
            continue
        if len(phone.display) > MAX_LENGTHS["phone"]:
            left_out.append(f"{draft.where}: {value.field} is too long; left out")
            continue
        if sample and not is_fiction_or_helpline(phone):
            skip.append(
                f"phone '{phone.display}' is not in the ranges reserved for fiction "
                "(01632 960xxx, 07700 900xxx); sample data must not use real numbers"
            )
            continue
        textphone = value.type in ("text", "textphone", "sms")
        if main is None and not textphone:
            main = (phone.display, phone.dial)
        elif all(phone.display not in o for o in others) and (
            main is None or phone.dial != main[1]
        ):
            label = {"text": "Text", "sms": "Text", "textphone": "Textphone"}.get(value.type, "")
            others.append(f"{label}: {phone.display}" if label else phone.display)
    if main is None:
        return None, None, others
    return main[0], main[1], others


def _email(draft: Draft, sample: bool, skip: list[str], left_out: list[str]) -> str | None:
    email = str(draft.email or "").strip().removeprefix("mailto:")
    if not email:
        return None
    name = draft.source_field("email")
    if not EMAIL_RE.match(email) or len(email) > MAX_LENGTHS["email"]:
        left_out.append(f"{draft.where}: {name} '{email}' is not an email address; left out")
        return None
    if sample and not email.lower().endswith("@example.org"):
        skip.append("sample data must use example.org email addresses")
    return email


def _web(draft: Draft, left_out: list[str]) -> str | None:
    """A web address; ``www.example.org`` becomes ``https://www.example.org``."""
    web = str(draft.web or "").strip()
    if not web:
        return None
    name = draft.source_field("web")
    if web.lower().startswith("www.") or (
        "://" not in web and DOMAIN_RE.match(web) and not web.startswith("/")
    ):
        web = "https://" + web
    if not web.lower().startswith(("https://", "http://")) or " " in web:
        left_out.append(f"{draft.where}: {name} '{draft.web}' is not a web address; left out")
        return None
    if len(web) > MAX_LENGTHS["web"]:
        left_out.append(f"{draft.where}: {name} is longer than 500 characters; left out")
        return None
    return web
