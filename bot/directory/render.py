"""Easy-read text for directory entries: short sentences, one line per entry."""

from __future__ import annotations

from collections.abc import Sequence

from bot.directory.records import Entry

SAMPLE_NOTICE = "Sample data: these contacts are made up for testing."
SHORT_SAMPLE_NOTICE = "Sample data: made-up contacts."


def contact_sentence(entry: Entry) -> str:
    """One short sentence on how to reach ``entry``."""
    if entry.phone:
        return f"Call {entry.phone}."
    if entry.email:
        return f"Email {entry.email}."
    if entry.how_to_refer:
        return entry.how_to_refer
    if entry.web:
        return f"Visit {entry.web}."
    return "Ask the Local Offer team how to reach them."


def entry_line(number: int, entry: Entry) -> str:
    """'1. Name: summary Call 01632 960101.'"""
    summary = entry.summary if entry.summary.endswith((".", "!", "?")) else entry.summary + "."
    return f"{number}. {entry.name}: {summary} {contact_sentence(entry)}"


def signpost_text(entries: Sequence[Entry], first_number: int = 1) -> str:
    """The reply that names who can help, one line each, with the sample-data notice."""
    intro = "This service can help:" if len(entries) == 1 else "These can help:"
    lines = [intro]
    lines += [entry_line(first_number + i, e) for i, e in enumerate(entries)]
    if any(e.sample_data for e in entries):
        lines.append(SAMPLE_NOTICE)
    return "\n".join(lines)


def short_contact(entry: Entry) -> str:
    """The shortest way to reach ``entry``: a number, else an email, else how to refer."""
    return entry.phone or entry.email or entry.how_to_refer or "ask the Local Offer team"


def signpost_sms(entries: Sequence[Entry], first_number: int = 1) -> str:
    """The same signpost for a text message, where every character costs: a name and a
    number a line, and the one-line summary only when there is a single service."""
    if len(entries) == 1:
        return signpost_text(entries, first_number).replace(SAMPLE_NOTICE, SHORT_SAMPLE_NOTICE)
    lines = ["These can help:"]
    lines += [f"{first_number + i}. {e.name}: {short_contact(e)}" for i, e in enumerate(entries)]
    if any(e.sample_data for e in entries):
        lines.append(SHORT_SAMPLE_NOTICE)
    return "\n".join(lines)


def entry_details(entry: Entry) -> str:
    """Everything a family needs to contact ``entry``, one fact a line."""
    lines = [f"{entry.name}.", entry.summary]
    if entry.phone:
        lines.append(f"Phone: {entry.phone}")
    if entry.email:
        lines.append(f"Email: {entry.email}")
    if entry.web:
        lines.append(f"Web: {entry.web}")
    if entry.hours:
        lines.append(f"Open: {entry.hours}")
    if entry.how_to_refer:
        lines.append(entry.how_to_refer)
    if entry.sample_data:
        lines.append(SAMPLE_NOTICE)
    return "\n".join(lines)
