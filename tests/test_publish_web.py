"""The Who's Who pages in real headless Chromium: axe-core at WCAG 2.2 AA, keyboard only,
the search box with JavaScript turned off, printing, and the /whos-who/ routes served the
way the Rasa server mounts them (scripts/whos_who_serve.py)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from email.message import Message
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.print_page_options import PrintOptions
from selenium.webdriver.support.ui import WebDriverWait

from bot.config import PROJECT_ROOT
from bot.db import make_engine, upgrade
from bot.directory.store import load_directory, save_directory
from bot.feedback.store import publish as publish_item
from bot.publish.audio import guide_parts, render_guide
from bot.publish.content import SAMPLE_NOTE, build_guide, checked
from bot.publish.html import Track, audio_page
from bot.publish.writer import publish
from bot.speech.cache import SpeechCache
from bot.speech.engines import EspeakEngine
from tests.browser import axe_violations, chromium
from tests.conftest import free_port

TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def site(tmp_path_factory, sample_directory) -> Iterator[tuple[Path, str]]:
    """The published folder (with two real recordings) and a server for /whos-who/."""
    work = tmp_path_factory.mktemp("site")
    url = f"sqlite:///{work / 'app.db'}"
    engine = make_engine(url)
    upgrade(engine)
    save_directory(engine, sample_directory)
    publish_item(
        engine, "School taxis were often late.", "We changed the taxi firm on 3 routes.",
        "travel_assistance", "transport",
    )  # fmt: skip
    folder = work / "publish"
    publish(engine, folder, TODAY, "/whos-who/search", cache=None)
    guide = build_guide(load_directory(engine), made=TODAY)
    cache = SpeechCache(engine, work / "cache", [EspeakEngine()])
    recordings, failed = render_guide(cache, guide_parts(guide)[:2], folder / "audio")
    assert failed == []
    tracks = [Track(r.part.number, r.part.title, r.path.name, r.seconds, r.part.text)
              for r in recordings]  # fmt: skip
    (folder / "audio" / "index.html").write_text(audio_page(guide, tracks, "whos-who.m3u"))
    engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PUBLISH_DIR": str(folder)}
    server = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "whos_who_serve.py"), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/whos-who/", timeout=5)  # noqa: S310
                break
            except OSError:
                assert server.poll() is None, "the Who's Who server stopped"
                time.sleep(0.5)
        yield folder, base
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with chromium() as driver:
        yield driver


def text_of(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def test_the_page_passes_axe_and_shows_every_entry_with_its_check(site, browser, sample_directory):
    folder, _base = site
    browser.get((folder / "index.html").as_uri())
    assert axe_violations(browser) == []
    assert browser.find_element(By.TAG_NAME, "h1").text == "Who's Who: who can help"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en-GB"
    body = text_of(browser)
    assert SAMPLE_NOTE in body and "Last updated: " in body
    articles = browser.find_elements(By.CSS_SELECTOR, "article.entry")
    assert len(articles) == len(sample_directory.entries)
    for entry in sample_directory.entries:
        article = browser.find_element(By.ID, f"entry-{entry.key.replace('_', '-')}")
        assert article.find_element(By.TAG_NAME, "h3").text == entry.name
        assert f"Last checked\n{checked(entry)}" in article.text
    senco = browser.find_element(By.ID, "entry-senco").text
    assert "(over 6 months ago: please check before you go)" in senco
    emergency = browser.find_element(By.CSS_SELECTOR, "section.emergency")
    assert [a.get_attribute("href") for a in emergency.find_elements(By.TAG_NAME, "a")] == [
        "tel:999", "tel:111", "tel:08001111", "tel:116123", "tel:01632960111",
    ]  # fmt: skip


def test_keyboard_only_skip_link_then_search(site, browser):
    _folder, base = site
    browser.get(f"{base}/whos-who/")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.text == "Skip to main content" and skip.is_displayed()
    skip.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("/whos-who/#main")
    for _ in range(30):  # keep tabbing until the search box has focus
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element.get_attribute("id") == "q":
            break
    box = browser.switch_to.active_element
    assert box.get_attribute("id") == "q"
    box.send_keys("school taxi", Keys.ENTER)
    WebDriverWait(browser, 60).until(lambda d: "/whos-who/search?" in d.current_url)
    assert browser.current_url == f"{base}/whos-who/search?q=school+taxi"
    assert "1 result for \u201cschool taxi\u201d." in text_of(browser)
    assert browser.find_element(By.TAG_NAME, "h2").text == "SEND Travel Assistance"
    assert axe_violations(browser) == []


def test_search_works_with_javascript_turned_off(site, browser):
    _folder, base = site
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(f"{base}/whos-who/")
        browser.find_element(By.CSS_SELECTOR, "details.az summary").click()  # no script needed
        assert browser.find_element(By.LINK_TEXT, "makaton").is_displayed()
        box = browser.find_element(By.ID, "q")
        box.send_keys("my son is not talking yet")
        browser.find_element(By.CSS_SELECTOR, "form.search button").click()
        WebDriverWait(browser, 60).until(lambda d: "/whos-who/search?" in d.current_url)
        WebDriverWait(browser, 60).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "article.entry h2")
        )  # a loaded machine may still be answering the first search
        names = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "article.entry h2")]
        assert names[0] == "Children's Speech and Language Therapy"
        browser.find_element(By.ID, "q").clear()
        browser.find_element(By.ID, "q").send_keys("zzzz qqqq")
        browser.find_element(By.CSS_SELECTOR, "form.search button").click()
        WebDriverWait(browser, 60).until(lambda d: "q=zzzz" in d.current_url)
        WebDriverWait(browser, 60, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: "Nothing was found" in text_of(d)
        )
        assert "Nothing was found for \u201czzzz qqqq\u201d. Try other words" in text_of(browser)
        browser.get(f"{base}/whos-who/search?q=")
        assert "Please type what you are looking for." in text_of(browser)
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_the_page_prints_cleanly(site, browser, tmp_path, sample_directory):
    folder, _base = site
    browser.get((folder / "index.html").as_uri())
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7
    pdf = tmp_path / "printed.pdf"
    pdf.write_bytes(base64.b64decode(browser.print_page(options)))
    pages = int(
        subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        .stdout.split("Pages:")[1].split()[0]
    )  # fmt: skip
    texts = [
        " ".join(
            subprocess.run(
                ["pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        )  # fmt: skip
        for p in range(1, pages + 1)
    ]
    whole = " ".join(texts)
    assert "Search the Who's Who" not in whole and "Find by word" not in whole  # screen only
    assert "In an emergency" in texts[0] and SAMPLE_NOTE in texts[0]
    for entry in sample_directory.entries:  # each box whole on one page
        on = [n for n, text in enumerate(texts) if f"{entry.name} {entry.summary}" in text]
        assert len(on) == 1, entry.key
        block = texts[on[0]].split(f"{entry.name} {entry.summary}", 1)[1]
        assert f"Last checked {checked(entry)}" in block, entry.key


def test_you_said_and_audio_pages_pass_axe(site, browser):
    folder, _base = site
    browser.get((folder / "you-said-we-did.html").as_uri())
    assert axe_violations(browser) == []
    said = browser.find_element(By.CSS_SELECTOR, "article.said").text.splitlines()
    assert said[1:] == [
        "You said: School taxis were often late.",
        "We did: We changed the taxi firm on 3 routes.",
    ]
    assert said[0].endswith(": SEND Travel Assistance")
    browser.get((folder / "audio" / "index.html").as_uri())
    assert axe_violations(browser) == []
    players = browser.find_elements(By.TAG_NAME, "audio")
    assert [p.get_attribute("src").rsplit("/", 1)[1] for p in players] == [
        "00-introduction-and-emergency-numbers.mp3", "01-a-break-from-caring.mp3",
    ]  # fmt: skip
    duration = browser.execute_async_script(
        "const done = arguments[0], a = document.querySelector('audio');"
        "a.preload = 'metadata'; a.onloadedmetadata = () => done(a.duration);"
        "a.onerror = () => done(-1); a.load();"
    )
    assert duration > 10  # the browser plays the real recording


def fetch(url: str) -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 (loopback)
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_server_hands_out_published_files_and_nothing_else(site):
    _folder, base = site
    status, headers, body = fetch(f"{base}/whos-who/whos-who-a5.pdf")
    assert (status, headers["Content-Type"], body[:5]) == (200, "application/pdf", b"%PDF-")
    status, headers, _ = fetch(f"{base}/whos-who/audio/01-a-break-from-caring.mp3")
    assert (status, headers["Content-Type"]) == (200, "audio/mpeg")
    for hidden in ("report.txt", "..%2fapp.db", "%2e%2e/app.db", "nothing.pdf"):
        assert fetch(f"{base}/whos-who/{hidden}")[0] == 404, hidden
    status, headers, body = fetch(f"{base}/whos-who/search?q={'x' * 5000}")
    assert status == 200 and "script-src" not in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert b"Nothing was found" in body and b"x" * 201 not in body
