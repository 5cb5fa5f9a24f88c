"""The emergency reply: the right help for the kind of harm, first, in one short message.

Every reply has the line ``EMERGENCY_LINE`` (999 for danger now), which channels use to
see that an emergency reply was given. Lines come from the helplines in
``data/safety/categories.yml``; local lines (the council's front door, the LADO) are filled
from the directory and left out when the directory cannot be read.
"""

from __future__ import annotations

from bot.directory.records import Entry
from bot.safety.categories import Catalogue, load_catalogue

EMERGENCY_LINE = "If someone is in danger right now, call 999."
OPENING = "I am worried about what you said. You can get help now."
KEEP_TALKING = "You can keep talking to me too."
MAX_HELP_LINES = 4


def local_line(template: str, entry: Entry | None) -> str | None:
    """A helpline line filled from a directory entry, or None without a phone number."""
    if entry is None or not entry.phone:
        return None
    note = " (sample number)" if entry.sample_data else ""
    return template.format(name=entry.name, phone=entry.phone, sample=note)


def emergency_text(
    front_door: Entry | None,
    category: str | None = None,
    *,
    lado: Entry | None = None,
    also: tuple[str, ...] = (),
    catalogue: Catalogue | None = None,
) -> str:
    """The emergency reply for ``category`` (or the general one), short and first.

    ``also`` adds the first helpline of each other category that fired, when it is not
    already there; ``front_door`` and ``lado`` fill the local lines."""
    if category is None:
        lines = [
            OPENING,
            EMERGENCY_LINE,
            "Children and young people can call Childline free on 0800 1111.",
            "Anyone can call Samaritans free on 116 123, day or night.",
        ]
        front = local_line("Worried about a child's safety? Call {name} on {phone}{sample}.",
                           front_door)  # fmt: skip
        return "\n".join([*lines, *([front] if front else []), KEEP_TALKING])
    catalogue = catalogue or load_catalogue()
    chosen = catalogue.category(category)
    keys = list(chosen.help)
    for other in also:
        if other != category:
            extra = next((k for k in catalogue.category(other).help if k not in keys), None)
            if extra is not None and len(keys) < MAX_HELP_LINES + 1:
                keys.append(extra)
    locals_ = {"family_connect": front_door, "lado": lado}
    lines = [chosen.opening or OPENING, EMERGENCY_LINE]
    for key in keys:
        helpline = catalogue.helplines[key]
        if helpline.local:
            line = local_line(helpline.text, locals_.get(helpline.local))
            if line:
                lines.append(line)
        else:
            lines.append(helpline.text)
    lines.append(KEEP_TALKING)
    return "\n".join(lines)


def is_emergency_reply(texts: list[str] | tuple[str, ...]) -> bool:
    """True when one of the bot's ``texts`` is an emergency reply (it has the 999 line)."""
    return any(EMERGENCY_LINE in (text or "") for text in texts)
