"""The printed booklet, checked as a reader gets it: pages rendered to images (pdftoppm),
the text read back (pdftotext), the type measured, the contents and page numbers followed."""

from __future__ import annotations

import base64
import math
import re
import subprocess
import zlib
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from bot.publish.booklet import MIN_FONT_SIZE, booklet_pdf
from bot.publish.content import SAMPLE_NOTE, build_guide, checked, emergency_contacts

TODAY = date(2026, 12, 1)
PAPER = {"A4": (595.276, 841.89), "A5": (419.528, 595.276)}
HELVETICA_HEIGHT = 0.925  # ascent + descent of Helvetica, per point of type size


@pytest.fixture(scope="module")
def guide(sample_directory):
    return build_guide(sample_directory, made=TODAY, updated=date(2026, 11, 30))


@pytest.fixture(scope="module", params=["A4", "A5"])
def booklet(request, guide, tmp_path_factory) -> tuple[str, Path, int]:
    made = booklet_pdf(guide, request.param)
    path = tmp_path_factory.mktemp("booklet") / f"whos-who-{request.param.lower()}.pdf"
    path.write_bytes(made.pdf)
    return request.param, path, made.pages


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def page_text(path: Path, page: int, layout: bool = False) -> str:
    flags = ["-layout"] if layout else []
    return run("pdftotext", *flags, "-f", str(page), "-l", str(page), str(path), "-")


def flat(text: str) -> str:
    return " ".join(text.split())


def shown_font_sizes(pdf: bytes) -> list[float | None]:
    """The type size in force each time text is drawn (Tj/TJ) in every content stream."""
    sizes: list[float | None] = []
    for head, raw in re.findall(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        if b"ASCII85Decode" in head:
            raw = base64.a85decode(raw.strip(), adobe=True)
        if b"FlateDecode" in head:
            raw = zlib.decompress(raw)
        size = None
        for match in re.finditer(rb"/F\d+ ([\d.]+) Tf|\b(Tj|TJ)\b", raw):
            if match.group(1):
                size = float(match.group(1))
            else:
                sizes.append(size)
    return sizes


def test_pages_are_the_paper_size_and_render_with_nothing_off_the_edge(booklet, tmp_path):
    size, path, pages = booklet
    info = run("pdfinfo", str(path))
    width, height = PAPER[size]
    found = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    paper = (float(found.group(1)), float(found.group(2)))
    assert paper == pytest.approx((width, height), abs=0.01)
    assert re.search(r"Pages:\s+(\d+)", info).group(1) == str(pages)
    assert pages % (4 if size == "A5" else 2) == 0  # A5 folds into a booklet
    run("pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page"))
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    edge = round(5 / 25.4 * 30)  # nothing printed within 5 mm of the edge
    for image_path in images:
        image = Image.open(image_path).convert("L")
        assert image.size == (math.ceil(width / 72 * 30), math.ceil(height / 72 * 30))
        ink = image.point(lambda v: 255 if v < 160 else 0).getbbox()
        assert ink is not None, f"{image_path.name} is blank"
        left, top, right, bottom = ink
        assert left >= edge and top >= edge, image_path.name
        assert right <= image.size[0] - edge and bottom <= image.size[1] - edge, image_path.name


def test_all_type_is_14_point_or_larger(booklet):
    _size, path, _pages = booklet
    sizes = shown_font_sizes(path.read_bytes())
    assert sizes and min(s or 0 for s in sizes) >= MIN_FONT_SIZE
    assert max(s or 0 for s in sizes) >= 28  # the title
    heights = [
        float(y_max) - float(y_min)
        for y_min, y_max in re.findall(
            r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"',
            run("pdftotext", "-bbox", str(path), "-"),
        )
    ]
    assert len(heights) > 1000
    assert min(heights) >= MIN_FONT_SIZE * HELVETICA_HEIGHT - 0.01
    fonts = run("pdffonts", str(path))
    assert {"Helvetica", "Helvetica-Bold"} <= set(re.findall(r"^(\S+)\s+Type 1", fonts, re.M))


def test_every_page_but_the_cover_is_numbered_and_says_sample_data(booklet):
    _size, path, pages = booklet
    cover = page_text(path, 1)
    assert "Page 1" not in cover and "Who's Who" in cover and SAMPLE_NOTE in flat(cover)
    for page in range(2, pages + 1):
        text = flat(page_text(path, page))
        assert f"Page {page} of {pages}" in text
        assert text.startswith(SAMPLE_NOTE)


def test_the_contents_page_lists_every_need_with_the_page_it_starts_on(booklet, guide):
    _size, path, pages = booklet
    rows: list[tuple[str, int]] = []
    for page in (2, 3):
        text = page_text(path, page, layout=True)
        rows += [
            (label.strip(), int(number))
            for label, number in re.findall(r"^\s*(\S.*?)\s{2,}(\d+)\s*$", text, re.M)
            if not label.strip().startswith("Page")
        ]
        if "In an emergency" in text:
            break
    labels = [label for label, _n in rows]
    assert labels == [s.need.label for s in guide.sections] + [
        "Is something wrong?", "In an emergency",
    ]  # fmt: skip
    for label, number in rows:
        heading = flat(page_text(path, number))  # a long heading may wrap
        assert f" {label} " in f" {heading} ", f"{label} is not on page {number}"
    assert rows[-1] == ("In an emergency", pages)


def test_each_entry_is_one_block_on_one_page(booklet, guide):
    _size, path, pages = booklet
    texts = {page: flat(page_text(path, page)) for page in range(1, pages + 1)}
    for entry in guide.entries:
        start = f"{entry.name} {entry.summary}"
        where = [page for page, text in texts.items() if start in text]
        assert len(where) == 1, f"{entry.key} appears on pages {where}"
        (page,) = where
        block = texts[page][texts[page].index(start) :]
        assert f"Checked: {checked(entry)}." in block, f"{entry.key} is split"
        for label in ("Who it is for:", "How to get help:"):
            assert label in block


def test_the_back_page_has_the_emergency_contacts(booklet, guide):
    _size, path, pages = booklet
    back = flat(page_text(path, pages))
    assert back.startswith(f"{SAMPLE_NOTE} In an emergency")
    for contact in emergency_contacts(guide.front_door):
        assert contact.sentence in back
    for number in ("999", "111", "0800 1111", "116 123", "01632 960111"):
        assert number in back
    assert "Not an emergency? Call the Local Offer Team on 01632 960126." in back
