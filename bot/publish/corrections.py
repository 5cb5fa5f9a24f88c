"""Families saying "this is wrong": which entry they mean, what is wrong, and keeping it.

A report becomes feedback about that entry (theme ``directory_error``, the entry's key as
the service), kept without any identity, so the publish report can list it for the Local
Offer team beside the entries not checked for six months.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.directory.records import Directory, Entry
from bot.directory.render import SHORT_SAMPLE_NOTICE
from bot.feedback.store import GENERAL, NewFeedback, record_feedback
from bot.text import normalise

THEME = "directory_error"
MAX_TEXT = 1000
# What is wrong, from the words used: the first that matches wins.
FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("closed", "details", ("closed down", "shut down", "doesnt exist", "does not exist",
                           "no longer", "not there any more", "not there anymore", "moved")),
    ("email", "email address", ("email", "e mail", "bounced", "bounce")),
    ("web", "website", ("website", "web site", "link", "web page", "webpage", "url")),
    ("hours", "opening hours", ("hours", "opening", "open", "closed on", "times")),
    ("phone", "phone number", ("number", "phone", "ring", "rang", "call", "line",
                               "dead", "no answer", "nobody answers", "not answering")),
)  # fmt: skip


@dataclass(frozen=True)
class Resolved:
    """Which entry a report is about, or the entries to choose from when unclear."""

    entry: Entry | None
    choices: tuple[Entry, ...] = ()


def _phrases(entry: Entry) -> list[str]:
    name = entry.name
    inside = re.findall(r"\(([^)]*)\)", name)
    outside = re.sub(r"\([^)]*\)", " ", name)
    found = [name, outside, *inside, entry.key.replace("_", " "), *entry.keywords]
    phrases = (normalise(p) for p in found)
    return [p for p in phrases if len(p) >= 4 and not p.isdigit()]


def named_entry(directory: Directory, text: str) -> Entry | None:
    """The entry a message names (its name, the short name in brackets, a keyword, or its
    phone number); the longest match wins."""
    plain = f" {normalise(text)} "
    digits = re.sub(r"\D", "", text)
    best: tuple[int, Entry] | None = None
    for entry in directory.entries:
        if entry.phone and len(digits) >= 6 and re.sub(r"\D", "", entry.phone) in digits:
            return entry
        for phrase in _phrases(entry):
            if f" {phrase} " in plain and (best is None or len(phrase) > best[0]):
                best = (len(phrase), entry)
    return best[1] if best else None


def resolve(directory: Directory, text: str, shown: Sequence[str]) -> Resolved:
    """The entry meant: one named in ``text``, else the only one just ``shown``; when
    several were shown and none is named, they are the choices."""
    named = named_entry(directory, text)
    if named is not None:
        return Resolved(named)
    recent = [e for key in shown if (e := directory.entry(key)) is not None]
    if len(recent) == 1:
        return Resolved(recent[0])
    return Resolved(None, tuple(recent))


def what_is_wrong(text: str) -> tuple[str, str]:
    """The field a report is about and its everyday name: ('phone', 'phone number')."""
    plain = f" {normalise(text)} "
    for field, words, cues in FIELDS:
        if any(f" {cue} " in plain for cue in cues):
            return field, words
    return "details", "details"


def other_way(entry: Entry, field: str) -> str | None:
    """Another way to reach ``entry`` while the wrong detail is checked."""
    if field == "closed":
        return None
    options = [
        ("phone", f"Call {entry.phone}." if entry.phone else None),
        ("email", f"Email {entry.email}." if entry.email else None),
        ("web", f"Visit {entry.web}." if entry.web else None),
    ]
    return next((text for kind, text in options if text and kind != field), None)


def thanks(entry: Entry | None, text: str) -> str:
    """The reply: thanks, who was told, what happens next, and another way to reach them."""
    lines = ["Thank you for telling us.", "I have passed it to the Local Offer team."]
    if entry is None:
        lines.append("They check every service's details.")
        return "\n".join(lines)
    field, words = what_is_wrong(text)
    lines.append(f"They will check the {words} for {entry.name}.")
    other = other_way(entry, field)
    if other:
        lines.append(f"Until then, you could try this. {other}")
        if entry.sample_data:
            lines.append(SHORT_SAMPLE_NOTICE)
    return "\n".join(lines)


ASK_WHICH = "Thank you. Which one has the wrong details?"
ANOTHER = "Another service"


def record_report(
    engine: Engine, channel: str, conversation_id: str, turn_id: str, entry: Entry | None,
    text: str,
) -> tuple[int, bool]:  # fmt: skip
    """Keep the report as anonymous feedback about ``entry`` (theme ``directory_error``);
    the id and whether it is new (a repeated delivery is kept once)."""
    report = NewFeedback(
        channel=channel,
        conversation_id=conversation_id,
        turn_id=f"directory-error:{turn_id}",
        service_key=entry.key if entry else GENERAL,
        rating=None,
        text=text.strip()[:MAX_TEXT] or "(no words given)",
        themes=(THEME,),
        consent=False,
    )
    return record_feedback(engine, report)
