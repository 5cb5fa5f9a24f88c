"""The Who's Who as web pages: pure functions from a :class:`Guide` to HTML text.

No scripts: the search box is a plain form (answered by the Rasa server at
``/whos-who/search``), and an A to Z word index and the topic list work on any page,
even saved to a phone or opened from a USB stick. The page prints cleanly (print CSS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from string import Template

from bot.directory.records import Entry
from bot.publish.content import (
    PURPOSE,
    SAMPLE_NOTE,
    TITLE,
    Guide,
    Section,
    ages,
    checked,
    contacts,
    emergency_contacts,
    entry_anchor,
    how_to_get_help,
    is_stale,
    keyword_index,
    long_date,
    report_wrong,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE = Template((TEMPLATES / "page.html").read_text(encoding="utf-8"))
CSS = (TEMPLATES / "style.css").read_text(encoding="utf-8")
MAX_QUERY = 200
FORMATS = (
    ("whos-who.pdf", "Easy-read booklet to print (PDF, A4)"),
    ("whos-who-a5.pdf", "Easy-read booklet, small size (PDF, A5)"),
    ("audio/index.html", "Listen to the audio guide"),
    ("you-said-we-did.html", "You said, we did: what changed because of feedback"),
)


@dataclass(frozen=True)
class SaidItem:
    """A published "You said, we did" item, as the page shows it."""

    published: date
    you_said: str
    we_did: str
    about: str = ""


@dataclass(frozen=True)
class Track:
    """One file of the audio guide, as the audio page lists it."""

    number: int
    title: str
    filename: str
    seconds: float
    transcript: str


def e(text: object) -> str:
    return escape(str(text), quote=True)


def document(title: str, body: str) -> str:
    """A whole page: the shared template and style around ``body``."""
    return PAGE.substitute(title=e(title), css=CSS, body=body)


def _header(guide: Guide, heading: str, lead: str = PURPOSE) -> str:
    parts = [
        "<header>",
        f'<p class="area">{e(guide.area_name)} Local Offer</p>',
        f"<h1>{e(heading)}</h1>",
        f'<p class="lead">{e(lead)}</p>' if lead else "",
    ]
    if guide.updated is not None:
        stamp = guide.updated.isoformat()
        parts.append(
            f'<p>Last updated: <time datetime="{stamp}">{e(long_date(guide.updated))}</time>.</p>'
        )
    if guide.sample_data:
        parts.append(f'<p class="notice"><strong>{e(SAMPLE_NOTE)}</strong></p>')
    parts.append("</header>")
    return "\n".join(p for p in parts if p)


def _footer(guide: Guide) -> str:
    return (
        f"<footer><p>Made from the {e(guide.area_name)} Local Offer directory on "
        f'<time datetime="{guide.made.isoformat()}">{e(long_date(guide.made))}</time>.</p>'
        "</footer>"
    )


def emergency_box(guide: Guide, level: int = 2) -> str:
    items = "".join(
        "<li>"
        + e(c.sentence).replace(
            e(c.number), f'<a href="tel:{c.number.replace(" ", "")}">{e(c.number)}</a>', 1
        )
        + "</li>"
        for c in emergency_contacts(guide.front_door)
    )
    return (
        f'<section class="emergency" aria-labelledby="emergency">'
        f'<h{level} id="emergency">In an emergency</h{level}><ul>{items}</ul></section>'
    )


def search_form(action: str, query: str = "") -> str:
    """A plain GET form: works with no JavaScript at all."""
    return (
        f'<form class="search" role="search" method="get" action="{e(action)}">'
        '<label for="q">Search the Who\'s Who</label>'
        '<span class="hint" id="q-hint">Use your own words, for example: school transport, '
        "speech therapy, money.</span>"
        f'<input type="search" id="q" name="q" value="{e(query)}" maxlength="{MAX_QUERY}" '
        'aria-describedby="q-hint" autocomplete="off">'
        '<button type="submit">Search</button></form>'
    )


def _link_list(css: str, label: str, links: Sequence[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="{e(href)}">{e(text)}</a></li>' for href, text in links)
    return f'<nav class="{css}" aria-label="{e(label)}"><ul>{items}</ul></nav>'


def entry_block(entry: Entry, guide: Guide, level: int = 3, anchor: bool = True) -> str:
    """One entry: name, easy-read line, who it is for, how to reach it and refer, when
    it was checked and by whom, and the other needs it helps with."""
    ident = entry_anchor(entry.key)
    rows = [("Who it is for", e(ages(entry)))]
    for contact in contacts(entry):
        value = e(contact.text)
        if contact.href:
            value = f'<a href="{e(contact.href)}">{value}</a>'
        rows.append((contact.label, value))
    refer = how_to_get_help(entry)
    if refer:
        rows.append(("How to get help", e(refer)))
    when = e(checked(entry))
    if entry.last_checked is not None:
        when = when.replace(
            e(long_date(entry.last_checked)),
            f'<time datetime="{entry.last_checked.isoformat()}">'
            f"{e(long_date(entry.last_checked))}</time>",
            1,
        )
    if is_stale(entry, guide.made):
        when += ' <span class="stale">(over 6 months ago: please check before you go)</span>'
    rows.append(("Last checked", when))
    dl = "".join(f"<dt>{e(label)}</dt><dd>{value}</dd>" for label, value in rows)
    others = [s for s in guide.sections if entry in s.also]
    helps = ""
    if others:
        links = ", ".join(f'<a href="#{s.anchor}">{e(s.need.label)}</a>' for s in others)
        helps = f'<p class="helps">Also helps with: {links}.</p>'
    id_attr = f' id="{ident}"' if anchor else ""
    return (
        f'<article class="entry"{id_attr} aria-labelledby="{ident}-name">'
        f'<h{level} id="{ident}-name">{e(entry.name)}</h{level}>'
        f'<p class="summary">{e(entry.summary)}</p><dl>{dl}</dl>{helps}</article>'
    )


def section_block(section: Section, guide: Guide) -> str:
    count = len(section.helpers)
    intro = "This can help:" if count == 1 else f"These {count} can help:"
    parts = [
        f'<section aria-labelledby="{section.anchor}">',
        f'<h2 id="{section.anchor}">{e(section.need.label)}</h2>',
        f"<p>{intro}</p>",
    ]
    parts += [entry_block(entry, guide) for entry in section.entries]
    if section.also:
        label = "Also see" if section.entries else "See"
        links = "".join(
            f'<li><a href="#{entry_anchor(x.key)}">{e(x.name)}</a>: {e(x.summary)}</li>'
            for x in section.also
        )
        parts.append(f'<div class="also"><h3>{label}</h3><ul>{links}</ul></div>')
    parts.append("</section>")
    return "\n".join(parts)


def topics_nav(guide: Guide) -> str:
    items = "".join(
        f'<li><a href="#{s.anchor}">{e(s.need.label)}</a> ({len(s.helpers)})</li>'
        for s in guide.sections
    )
    return (
        '<nav class="topics" aria-labelledby="topics"><h2 id="topics">Topics</h2>'
        f"<p>Pick a topic to see who can help.</p><ol>{items}</ol></nav>"
    )


def az_index(guide: Guide) -> str:
    """Words families look for, A to Z, each linked to the service: a search with no server."""
    groups = []
    for letter, words in keyword_index(guide):
        items = "".join(
            f'<li><a href="#{entry_anchor(entry.key)}">{e(word)}</a>: {e(entry.name)}</li>'
            for word, entry in words
        )
        groups.append(f"<h3>{e(letter)}</h3><ul>{items}</ul>")
    return (
        '<details class="az"><summary>Find by word, A to Z</summary>'
        + "".join(groups)
        + "</details>"
    )


def wrong_block(guide: Guide) -> str:
    lines = "".join(f"<p>{e(line)}</p>" for line in report_wrong(guide))
    return (
        f'<section aria-labelledby="wrong"><h2 id="wrong">Is something wrong?</h2>{lines}</section>'
    )


def index_page(guide: Guide, search_action: str | None) -> str:
    """The whole Who's Who on one page (``DIR/index.html`` and ``/whos-who/``)."""
    body = [
        _header(guide, TITLE),
        _link_list("formats", "Other ways to get this guide", FORMATS),
        '<main id="main">',
        emergency_box(guide),
        search_form(search_action) if search_action else "",
        az_index(guide),
        topics_nav(guide),
        *(section_block(s, guide) for s in guide.sections),
        wrong_block(guide),
        "</main>",
        _footer(guide),
    ]
    return document(f"{TITLE} - {guide.area_name} Local Offer", "\n".join(b for b in body if b))


def search_page(guide: Guide, query: str, results: Sequence[Entry], search_action: str) -> str:
    """The answer to the search box: the entries found, each in full."""
    query = query.strip()[:MAX_QUERY]
    if not query:
        found = "<p>Please type what you are looking for.</p>"
    elif not results:
        found = (
            f"<p>Nothing was found for &ldquo;{e(query)}&rdquo;. Try other words, "
            'or <a href="./#topics">look at the topics</a>.</p>'
        )
    else:
        count = "1 result" if len(results) == 1 else f"{len(results)} results"
        blocks = []
        for entry in results:
            section = guide.section_of(entry)
            blocks.append(
                entry_block(entry, guide, level=2, anchor=False).replace(
                    '<p class="summary">',
                    f'<p>Topic: <a href="./#{section.anchor}">{e(section.need.label)}</a></p>'
                    '<p class="summary">',
                    1,
                )
            )
        found = f"<p>{count} for &ldquo;{e(query)}&rdquo;.</p>" + "\n".join(blocks)
    body = [
        _header(guide, "Search the Who's Who", lead=""),
        '<main id="main">',
        search_form(search_action, query),
        f'<section aria-label="Results">{found}</section>',
        '<p><a href="./">Back to the whole Who\'s Who</a></p>',
        emergency_box(guide),
        "</main>",
        _footer(guide),
    ]
    return document(
        f"Search: {query or 'the Who’s Who'} - {guide.area_name} Local Offer", "\n".join(body)
    )


def you_said_page(guide: Guide, items: Sequence[SaidItem]) -> str:
    """``DIR/you-said-we-did.html``: what changed because of families' feedback."""
    if items:
        blocks = "\n".join(
            '<article class="said">'
            f'<h2><time datetime="{item.published.isoformat()}">'
            f"{e(long_date(item.published))}</time>"
            f"{': ' + e(item.about) if item.about else ''}</h2>"
            f"<p><strong>You said:</strong> {e(item.you_said)}</p>"
            f"<p><strong>We did:</strong> {e(item.we_did)}</p></article>"
            for item in items
        )
    else:
        blocks = "<p>Nothing has been published yet. Your feedback helps us change things.</p>"
    body = [
        _header(
            guide,
            "You said, we did",
            lead="What services changed because families told us what they think.",
        ),
        _link_list("formats", "More", (("index.html", "The Who's Who: who can help"),)),
        f'<main id="main">{blocks}',
        "<p>Tell us what you think: say &ldquo;I want to give feedback&rdquo; "
        "to the Local Offer helper.</p></main>",
        _footer(guide),
    ]
    return document(f"You said, we did - {guide.area_name} Local Offer", "\n".join(body))


def duration(seconds: float) -> str:
    """'2 minutes 5 seconds'."""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if rest or not minutes:
        parts.append(f"{rest} second{'s' if rest != 1 else ''}")
    return " ".join(parts)


def audio_page(guide: Guide, tracks: Sequence[Track], playlist: str) -> str:
    """``DIR/audio/index.html``: every part of the audio guide, with what it says."""
    items = []
    for track in tracks:
        kind = track.filename.rsplit(".", 1)[-1].upper()
        items.append(
            f'<li><h2 id="part-{track.number}">{e(track.title)}</h2>'
            f'<audio controls preload="none" src="{e(track.filename)}" '
            f'aria-labelledby="part-{track.number}"></audio>'
            f'<p><a href="{e(track.filename)}" download>Download {e(track.title)}</a> '
            f"({kind}, {e(duration(track.seconds))})</p>"
            f"<details><summary>What it says</summary><p>{e(track.transcript)}</p></details></li>"
        )
    body = [
        _header(
            guide,
            "The Who's Who to listen to",
            lead="One recording for each topic. Play them here, or download them to your phone.",
        ),
        _link_list(
            "formats",
            "More",
            (
                (playlist, "All recordings as a playlist (M3U)"),
                ("../index.html", "The Who's Who page"),
            ),
        ),
        f'<main id="main"><ol class="tracks">{"".join(items)}</ol></main>',
        _footer(guide),
    ]
    return document(f"Audio guide - {guide.area_name} Local Offer", "\n".join(body))
