"""What every form of the published Who's Who says, in one pure module.

The page, the booklet and the audio guide are made from one :class:`Guide`: the need
groups in families' words (A to Z), each entry placed once under the need it is best for
and listed as "also see" under its other needs, the easy-read lines for each entry, when
it was last checked and by whom, and the emergency contacts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.directory.records import Directory, Entry, Need
from bot.directory.render import SAMPLE_NOTICE
from bot.directory.topics import FRONT_DOOR_KEY

STALE_AFTER = timedelta(days=183)  # six months: the Local Offer team checks these again
LOCAL_OFFER_KEY = "local_offer"
TITLE = "Who's Who: who can help"
PURPOSE = (
    "Services and people who help families of children with SEND. "
    "SEND means special educational needs and disabilities. "
    "For children and young people from birth to age 25."
)
SAMPLE_NOTE = SAMPLE_NOTICE  # "Sample data: these contacts are made up for testing."
_SMALL_WORDS = frozenset({"and", "of", "on", "upon", "the", "in"})
_MOBILE = re.compile(r"^(?:07|\+44 ?7)")


@dataclass(frozen=True)
class Section:
    """One need group: the entries best for it, and others that also help."""

    need: Need
    entries: tuple[Entry, ...]
    also: tuple[Entry, ...]

    @property
    def anchor(self) -> str:
        return need_anchor(self.need.key)

    @property
    def helpers(self) -> tuple[Entry, ...]:
        """Everyone who helps with this need, those best at it first."""
        return self.entries + self.also


@dataclass(frozen=True)
class Contact:
    """One way to reach an entry: a label, what to show, and a link for the page."""

    label: str
    text: str
    href: str | None = None


@dataclass(frozen=True)
class Emergency:
    """One emergency contact: the sentence, and the number in it."""

    sentence: str
    number: str


@dataclass(frozen=True)
class Guide:
    """The whole Who's Who, ready to be written as a page, a booklet or audio."""

    area_name: str
    sections: tuple[Section, ...]
    entries: tuple[Entry, ...]
    sample_data: bool
    made: date
    updated: date | None
    front_door: Entry | None
    local_offer: Entry | None

    def section_of(self, entry: Entry) -> Section:
        """The section an entry is written out in (the need it is best for)."""
        return next(s for s in self.sections if entry in s.entries)


def need_anchor(key: str) -> str:
    return "need-" + key.replace("_", "-")


def entry_anchor(key: str) -> str:
    return "entry-" + key.replace("_", "-")


def area_name(area: str) -> str:
    """'telford_and_wrekin' -> 'Telford and Wrekin'."""
    words = area.replace("_", " ").replace("-", " ").split()
    return " ".join(
        w if i and w in _SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


def long_date(day: date) -> str:
    """'1 December 2026'."""
    return f"{day.day} {day:%B %Y}"


def build_guide(
    directory: Directory, made: date, updated: date | None = None, area: str = ""
) -> Guide:
    """Group ``directory`` by need, A to Z by the need's words; needs nobody helps with
    are left out. Each entry is written out once, under its first (best) need."""
    sections = []
    for need in sorted(directory.needs, key=lambda n: n.label.lower()):
        helping = directory.for_need(need.key)
        if not helping:
            continue
        best = tuple(e for e in helping if e.needs[0] == need.key)
        also = tuple(e for e in helping if e.needs[0] != need.key)
        sections.append(Section(need, best, also))
    placed = {e.key for s in sections for e in s.entries}
    missing = [e for e in directory.entries if e.key not in placed]
    if missing:  # an entry whose best need is not in the taxonomy still appears
        other = Need("other", "Other help", ())
        sections.append(Section(other, tuple(missing), ()))
    areas = [e.area for e in directory.entries if e.area]
    return Guide(
        area_name=area_name(area or directory.area or (areas[0] if areas else "")),
        sections=tuple(sections),
        entries=directory.entries,
        sample_data=directory.sample_data or any(e.sample_data for e in directory.entries),
        made=made,
        updated=updated,
        front_door=directory.entry(FRONT_DOOR_KEY),
        local_offer=directory.entry(LOCAL_OFFER_KEY),
    )


def ages(entry: Entry) -> str:
    """'From birth to age 25' or 'Ages 4 to 18'."""
    if entry.age_min <= 0:
        return f"From birth to age {entry.age_max}"
    return f"Ages {entry.age_min} to {entry.age_max}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def web_text(url: str) -> str:
    """A web address as people write it: no https://, no slash at the end."""
    return re.sub(r"^https?://", "", url).rstrip("/")


def is_mobile(phone: str) -> bool:
    return bool(_MOBILE.match(phone.strip()))


def contacts(entry: Entry) -> list[Contact]:
    """How to reach ``entry``: phone, text (mobiles only), email, web and opening hours."""
    found: list[Contact] = []
    if entry.phone:
        digits = re.sub(r"[^\d+]", "", entry.phone)
        found.append(Contact("Phone", entry.phone, f"tel:{digits}"))
        if is_mobile(entry.phone):
            found.append(Contact("Text", entry.phone, f"sms:{digits}"))
    if entry.email:
        found.append(Contact("Email", entry.email, f"mailto:{entry.email}"))
    if entry.web:
        found.append(Contact("Website", web_text(entry.web), entry.web))
    if entry.hours:
        found.append(Contact("Open", entry.hours))
    return found


def is_stale(entry: Entry, today: date) -> bool:
    """True when nobody has checked ``entry`` in the last six months (or ever)."""
    return entry.last_checked is None or today - entry.last_checked > STALE_AFTER


def checker(entry: Entry) -> str:
    """Who checked, as a role: 'the service manager' ('a parent carer from PODS' stays)."""
    role = (entry.checked_by or "").strip()
    if role and role.split()[0].lower() not in ("a", "an", "the"):
        role = f"the {role}"
    return role


def checked(entry: Entry) -> str:
    """'14 October 2026, by the service manager' (or 'Not checked yet')."""
    if entry.last_checked is None:
        return "Not checked yet"
    role = checker(entry)
    return f"{long_date(entry.last_checked)}, by {role}" if role else long_date(entry.last_checked)


def checked_sentence(entry: Entry, today: date) -> str:
    """'Checked on 14 October 2026, by the service manager.' and a warning when old."""
    if entry.last_checked is None:
        return "These details have not been checked yet. Please check before you go."
    sentence = f"Checked on {checked(entry)}."
    if is_stale(entry, today):
        sentence += " That was over 6 months ago. Please check before you go."
    return sentence


def how_to_get_help(entry: Entry) -> str | None:
    return _sentence(entry.how_to_refer) if entry.how_to_refer else None


def emergency_contacts(front_door: Entry | None) -> list[Emergency]:
    """The emergency contacts on every form of the guide, most urgent first."""
    found = [
        Emergency("If someone is in danger right now, call 999.", "999"),
        Emergency("Need a doctor or nurse fast? Call NHS 111. It is free.", "111"),
        Emergency("Children and young people can call Childline free on 0800 1111.", "0800 1111"),
        Emergency("Anyone can call Samaritans free on 116 123, day or night.", "116 123"),
    ]
    if front_door is not None and front_door.phone:
        note = " (sample number)" if front_door.sample_data else ""
        found.append(
            Emergency(
                f"Worried about a child's safety? Call {front_door.name} on "
                f"{front_door.phone}{note}.",
                front_door.phone,
            )
        )
    return found


def report_wrong(guide: Guide) -> list[str]:
    """How to tell us something in the guide is wrong, in short sentences."""
    lines = [
        "Is a number or address wrong? Please tell us.",
        'Tell the Local Offer helper, for example: "the number for PODS is wrong".',
    ]
    team = guide.local_offer
    if team is not None and team.email:
        lines.append(f"Or email the Local Offer team: {team.email}.")
    return lines


def keyword_index(guide: Guide) -> list[tuple[str, list[tuple[str, Entry]]]]:
    """Words families might look for, A to Z: [(letter, [(word, entry), ...]), ...]."""
    words: dict[tuple[str, str], Entry] = {}
    for entry in guide.entries:
        for word in entry.keywords:
            words.setdefault((word.lower(), entry.key), entry)
    by_letter: dict[str, list[tuple[str, Entry]]] = {}
    for (word, _key), entry in sorted(words.items()):
        letter = word[:1].upper() if word[:1].isalpha() else "#"
        by_letter.setdefault(letter, []).append((word, entry))
    return sorted(by_letter.items())
