"""The printed easy-read booklet (PDF, A4 and A5), made with ReportLab.

Large type (14 pt at the least, headings larger), one box per entry that is never split
across pages, a contents page by need with page numbers, "Page N of M" on every page
after the cover, and the emergency contacts alone on the back page. Blank "Notes" pages
before the back page make the count even (A4) or a multiple of four (A5, to fold).

Page numbers are found by building twice: the first build records where each need and
entry landed, the second prints those numbers (and again if anything moved).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bot.directory.records import Entry
from bot.publish.content import (
    PURPOSE,
    SAMPLE_NOTE,
    Guide,
    Section,
    ages,
    checked,
    contacts,
    emergency_contacts,
    entry_anchor,
    how_to_get_help,
    is_stale,
    long_date,
    need_anchor,
    report_wrong,
)

MIN_FONT_SIZE = 14
_NUMBER = re.compile(r"\b\d[\d ]*\d\b")
FONT, BOLD = "Helvetica", "Helvetica-Bold"
INK, BAND, ALARM = (
    colors.HexColor("#0b0c0c"),
    colors.HexColor("#1d4f91"),
    colors.HexColor("#b10e1e"),
)
SIZES = {"A4": A4, "A5": A5}
BACK_PAGE = "back-page"
# A table sets its cells' font even when they hold paragraphs: keep that large too.
CELL_FONT = (("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), MIN_FONT_SIZE))
HOW_TO_USE = (
    "Find your topic on the contents page.",
    "Each box is one service or person who can help.",
    "You can call, text or email them.",
    "Emergency numbers are on the back page.",
)


@dataclass(frozen=True)
class Layout:
    """Sizes for one paper size: everything at least ``MIN_FONT_SIZE`` points."""

    name: str
    margin: float
    body: float
    title: float
    heading: float

    @property
    def pagesize(self) -> tuple[float, float]:
        return SIZES[self.name]


LAYOUTS = {
    "A4": Layout("A4", 20 * mm, 16, 34, 24),
    "A5": Layout("A5", 15 * mm, 14, 28, 20),
}


class Mark(Flowable):
    """Takes no space; records the page it lands on and adds a PDF bookmark there."""

    def __init__(self, key: str, title: str, pages: dict[str, int], level: int = 0) -> None:
        super().__init__()
        self.key, self.title, self.pages, self.level = key, title, pages, level

    def wrap(self, *_args: Any) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.pages[self.key] = self.canv.getPageNumber()
        self.canv.bookmarkPage(self.key)
        if self.title:
            self.canv.addOutlineEntry(self.title, self.key, level=self.level)


class Lines(Flowable):
    """Ruled lines to write on (the "Notes" pages)."""

    def __init__(self, count: int, gap: float) -> None:
        super().__init__()
        self.count, self.gap = count, gap

    def wrap(self, available_width: float, _height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, self.count * self.gap

    def draw(self) -> None:
        self.canv.setStrokeColor(colors.HexColor("#8a8a8a"))
        for n in range(self.count):
            y = self.count * self.gap - (n + 1) * self.gap
            self.canv.line(0, y, self.width, y)


class Styles:
    """The paragraph styles for one layout."""

    def __init__(self, layout: Layout) -> None:
        size, lead = layout.body, layout.body * 1.35
        self.body = ParagraphStyle(
            "body",
            fontName=FONT,
            fontSize=size,
            leading=lead,
            textColor=INK,
            spaceAfter=size * 0.35,
        )
        self.line = ParagraphStyle("line", parent=self.body, spaceAfter=size * 0.15)
        self.name = ParagraphStyle(
            "name", parent=self.body, fontName=BOLD, fontSize=size + 3, leading=(size + 3) * 1.25
        )
        self.title = ParagraphStyle(
            "title",
            parent=self.body,
            fontName=BOLD,
            fontSize=layout.title,
            leading=layout.title * 1.15,
            spaceAfter=layout.title * 0.4,
        )
        self.heading = ParagraphStyle(
            "heading",
            parent=self.body,
            fontName=BOLD,
            fontSize=layout.heading,
            leading=layout.heading * 1.2,
            textColor=BAND,
            spaceBefore=size,
            spaceAfter=size * 0.5,
        )
        self.big = ParagraphStyle(
            "big",
            parent=self.body,
            fontSize=size + 4,
            leading=(size + 4) * 1.35,
            spaceAfter=size * 0.6,
        )
        self.page_number = ParagraphStyle("page", parent=self.body, alignment=TA_RIGHT)


def x(text: object) -> str:
    """Text made safe for ReportLab's paragraph markup; a phone number never breaks."""
    return _NUMBER.sub(lambda m: m.group(0).replace(" ", "&nbsp;"), escape(str(text)))


def _box(flowables: list[Flowable], width: float, colour: Any, line: float, edge: int = 3) -> Table:
    table = Table([[flowables]], colWidths=[width])
    table.setStyle(
        TableStyle(
            [
                *CELL_FONT,
                ("BOX", (0, 0), (-1, -1), line, colour),
                ("LINEBEFORE", (0, 0), (0, -1), line * edge, colour),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


class BookletWriter:
    """Writes the booklet for one guide and one paper size."""

    def __init__(self, guide: Guide, layout: Layout) -> None:
        self.guide, self.layout, self.styles = guide, layout, Styles(layout)
        self.width = layout.pagesize[0] - 2 * layout.margin
        self.frame_height = layout.pagesize[1] - 2 * layout.margin - 12  # the frame's padding
        self.printed: dict[str, int] = {}
        self.found: dict[str, int] = {}
        self.total = 0

    # --- pages ---------------------------------------------------------------------

    def cover(self) -> list[Flowable]:
        s, guide = self.styles, self.guide
        story: list[Flowable] = [
            Paragraph(f"{x(guide.area_name)} Local Offer", s.big),
            Paragraph("Who's Who", s.title),
            Paragraph("Who can help: easy read", s.heading),
        ]
        story += [Paragraph(x(sentence) + ".", s.body) for sentence in _sentences(PURPOSE)]
        if guide.updated is not None:
            story.append(Paragraph(f"Last updated: {x(long_date(guide.updated))}.", s.body))
        if guide.sample_data:
            notice = Paragraph(f"<b>{x(SAMPLE_NOTE)}</b>", s.body)
            story += [Spacer(1, 6), _box([notice], self.width, INK, 2)]
        story.append(Paragraph("How to use this booklet", s.heading))
        story += [Paragraph(f"\u2022 {x(line)}", s.line) for line in HOW_TO_USE]
        danger = "If someone is in danger right now, call <b>999</b>."
        story += [Spacer(1, 12), _box([Paragraph(danger, s.big)], self.width, ALARM, 3, edge=1)]
        story.append(PageBreak())
        return story

    def contents(self) -> list[Flowable]:
        s = self.styles
        rows = [
            (section.need.label, need_anchor(section.need.key)) for section in self.guide.sections
        ]
        rows += [("Is something wrong?", "wrong"), ("In an emergency", BACK_PAGE)]
        data = [
            [
                Paragraph(f'<a href="#{key}">{x(label)}</a>', s.line),
                Paragraph(str(self.printed.get(key, "00")), s.page_number),
            ]
            for label, key in rows
        ]
        table = Table(data, colWidths=[self.width - 50, 50], repeatRows=0)
        table.setStyle(
            TableStyle(
                [
                    *CELL_FONT,
                    ("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        intro = Paragraph("Find your topic. Then turn to its page.", s.body)
        return [Paragraph("Contents", s.title), intro, table, PageBreak()]

    def entry_box(self, entry: Entry) -> Flowable:
        """One entry in a box that is never split across pages."""
        s = self.styles
        inner: list[Flowable] = [
            Mark(entry_anchor(entry.key), entry.name, self.found, level=1),
            Paragraph(x(entry.name), s.name),
            Paragraph(x(entry.summary), s.line),
            Paragraph(f"<b>Who it is for:</b> {x(ages(entry))}.", s.line),
        ]
        for contact in contacts(entry):
            inner.append(Paragraph(f"<b>{x(contact.label)}:</b> {x(contact.text)}", s.line))
        refer = how_to_get_help(entry)
        if refer:
            inner.append(Paragraph(f"<b>How to get help:</b> {x(refer)}", s.line))
        inner.append(Paragraph(f"<b>Checked:</b> {x(checked(entry))}.", s.line))
        if is_stale(entry, self.guide.made):
            inner.append(Paragraph("That was over 6 months ago. Please check first.", s.line))
        return _box(inner, self.width, BAND, 1.2)

    def section(self, section: Section) -> list[Flowable]:
        """A need: its heading kept with its first box; the "see also" lines kept with
        the last box (or with the heading when the details are all on other pages)."""
        s = self.styles
        count = len(section.helpers)
        helps = "This can help" if count == 1 else f"These {count} can help"
        if not section.entries:
            helps += ". Turn to its page:" if count == 1 else ". Turn to their pages:"
        groups: list[list[Flowable]] = [
            [
                Mark(need_anchor(section.need.key), section.need.label, self.found),
                Paragraph(x(section.need.label), s.heading),
                Paragraph(f"{helps}{':' if section.entries else ''}", s.body),
            ]
        ]
        for n, entry in enumerate(section.entries):
            if n:
                groups.append([Spacer(1, 8)])
            groups[-1].append(self.entry_box(entry))
        if section.also:
            lines: list[Flowable] = [Spacer(1, 6)]
            if section.entries:
                lines.append(Paragraph("Also see:", s.body))
            for other in section.also:
                page = self.printed.get(entry_anchor(other.key), "00")
                lines.append(
                    Paragraph(
                        f'\u2022 <a href="#{entry_anchor(other.key)}">{x(other.name)}</a>, '
                        f"page {page}.",
                        s.line,
                    )
                )
            groups[-1] += lines
        return [self.together(group) for group in groups]

    def together(self, flowables: list[Flowable]) -> Flowable:
        """``flowables`` as one unbreakable block (a borderless table cell) when it fits on
        a page, else kept together as far as ReportLab can."""
        block = Table([[flowables]], colWidths=[self.width])
        block.setStyle(TableStyle([*CELL_FONT, ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                   ("TOPPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))  # fmt: skip
        _width, height = block.wrap(self.width, self.frame_height)
        return block if height <= self.frame_height else KeepTogether(flowables)

    def wrong(self) -> list[Flowable]:
        s = self.styles
        lines: list[Flowable] = [
            Mark("wrong", "Is something wrong?", self.found),
            Paragraph("Is something wrong?", s.heading),
        ]
        lines += [Paragraph(x(line), s.body) for line in report_wrong(self.guide)]
        lines.append(
            Paragraph(
                f"This booklet was made from the directory on {x(long_date(self.guide.made))}.",
                s.body,
            )
        )
        return [KeepTogether(lines)]

    def notes(self, count: int) -> list[Flowable]:
        s = self.styles
        gap = self.layout.body * 2.2
        height = self.layout.pagesize[1] - 2 * self.layout.margin - 120
        story: list[Flowable] = []
        for _ in range(count):
            story += [
                PageBreak(),
                Paragraph("Notes", s.heading),
                Paragraph("Write down who you called, and when.", s.body),
                Lines(int(height // gap), gap),
            ]
        return story

    def back_page(self) -> list[Flowable]:
        s = self.styles
        inner: list[Flowable] = [
            Mark(BACK_PAGE, "In an emergency", self.found),
            Paragraph("In an emergency", s.title),
        ]
        for contact in emergency_contacts(self.guide.front_door):
            number = x(contact.number)
            inner.append(Paragraph(x(contact.sentence).replace(number, f"<b>{number}</b>"), s.big))
        story: list[Flowable] = [PageBreak(), _box(inner, self.width, ALARM, 3, edge=1)]
        team = self.guide.local_offer
        if team is not None and team.phone:
            story += [
                Spacer(1, 12),
                Paragraph("Not an emergency?", s.heading),
                Paragraph(f"Call the {x(team.name)} on <b>{x(team.phone)}</b>.", s.big),
            ]
        return story

    def story(self, notes: int) -> list[Flowable]:
        story = [*self.cover(), *self.contents()]
        for section in self.guide.sections:
            story += self.section(section)
        story += self.wrong()
        story += self.notes(notes)
        story += self.back_page()
        return story

    # --- building -----------------------------------------------------------------

    def _decorate(self, total: int) -> Callable[[Canvas, Any], None]:
        layout = self.layout

        def on_page(canvas: Canvas, _doc: Any) -> None:
            width, height = layout.pagesize
            canvas.saveState()
            canvas.setFillColor(INK)
            canvas.setFont(FONT, MIN_FONT_SIZE)
            number = canvas.getPageNumber()
            label = f"Page {number} of {total}" if total else f"Page {number}"
            canvas.drawCentredString(width / 2, layout.margin / 2, label)
            if self.guide.sample_data:
                canvas.drawString(layout.margin, height - 10 * mm, SAMPLE_NOTE)
            canvas.restoreState()

        return on_page

    def build_once(self, printed: dict[str, int], notes: int, total: int) -> bytes:
        """One build printing the page numbers in ``printed``; records where each need
        and entry landed in ``self.found`` and the number of pages in ``self.total``."""
        self.printed, self.found = printed, {}
        out = BytesIO()
        doc = SimpleDocTemplate(
            out,
            pagesize=self.layout.pagesize,
            leftMargin=self.layout.margin,
            rightMargin=self.layout.margin,
            topMargin=self.layout.margin,
            bottomMargin=self.layout.margin,
            title=f"Who's Who: who can help - {self.guide.area_name} Local Offer",
            author=f"{self.guide.area_name} Local Offer",
            subject="Easy-read guide to services for families of children with SEND",
            lang="en-GB",
            initialFontName=FONT,
            initialFontSize=MIN_FONT_SIZE,
            initialLeading=MIN_FONT_SIZE * 1.2,
        )
        on_page = self._decorate(total)
        doc.build(self.story(notes), onFirstPage=_nothing, onLaterPages=on_page)
        self.total = int(doc.page)
        return out.getvalue()

    def build(self) -> bytes:
        """Build until every page number printed is where that thing really is."""
        self.build_once({}, notes=0, total=0)
        fold = 4 if self.layout.name == "A5" else 2
        notes = -self.total % fold
        printed, total = self.found, self.total + notes
        for _ in range(4):
            pdf = self.build_once(printed, notes, total)
            if self.found == printed and self.total == total:
                return pdf
            printed, total = self.found, self.total
        raise RuntimeError("the booklet's page numbers did not settle")


def _nothing(_canvas: Canvas, _doc: Any) -> None:
    """The cover has no page number."""


def _sentences(text: str) -> list[str]:
    return [part.strip().rstrip(".") for part in text.split(". ") if part.strip()]


@dataclass(frozen=True)
class Booklet:
    """A finished booklet: the PDF and its number of pages."""

    pdf: bytes
    pages: int


def booklet_pdf(guide: Guide, size: str = "A4") -> Booklet:
    """The booklet for ``guide`` on ``size`` paper ("A4" or "A5")."""
    writer = BookletWriter(guide, LAYOUTS[size])
    pdf = writer.build()
    return Booklet(pdf, writer.total)
