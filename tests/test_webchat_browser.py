"""The web chat page in real headless Chromium against both real servers: the server names
the conversation in an HttpOnly cookie the page cannot read, the page posts to its own
endpoint, and the conversation carries on after a reload (the same cookie)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from actions.listen import AGAIN, TURNED_ON
from channels.webchat_session import COOKIE
from scripts import servers
from tests.browser import axe_violations, chromium, describe, require_chromium
from tests.conftest import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Iterator[servers.Assistant]:
    require_chromium()
    workdir = tmp_path_factory.mktemp("webchat")
    with servers.running(
        rasa_port=free_port(), actions_port=free_port(), workdir=workdir, quiet=True,
        env={"SPEECH_ENGINES": "espeak", "AUDIO_DIR": str(workdir / "audio")},
    ) as running:  # fmt: skip
        yield running


def bot_texts(driver) -> list[str]:
    """The text of each answer shown, without its buttons."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('li.bot'))"
        ".map(function (li) { return li.firstChild.textContent; });"
    )


def send(driver, text: str, answers_before: int) -> list[str]:
    """Type ``text`` and press Enter, as a person would; the bot's new answers."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    box = driver.find_element(By.ID, "message")
    box.send_keys(text, Keys.ENTER)
    WebDriverWait(driver, 90).until(lambda d: len(bot_texts(d)) > answers_before)
    return bot_texts(driver)[answers_before:]


def test_the_page_chats_in_the_servers_conversation_and_keeps_it_after_a_reload(assistant):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = f"{assistant.base_url}/webhooks/webchat/"
    with chromium() as driver:
        driver.get(page)
        (cookie,) = (c for c in driver.get_cookies() if c["name"] == COOKIE)
        assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
            True, "Lax", "/webhooks/webchat",
        )  # fmt: skip
        assert driver.execute_script("return document.cookie") == ""  # out of the page's reach
        assert driver.execute_script("return localStorage.getItem('send-assistant-id')") is None
        violations = axe_violations(driver)
        assert violations == [], describe(violations)

        first = send(driver, "who can help with school transport", 0)
        assert "1. SEND Travel Assistance" in first[0]
        conversation = cookie["value"].split(".")[0]
        assert conversation.startswith("web-")

        driver.get(page)  # a reload: the same cookie, the same conversation
        assert [c["value"] for c in driver.get_cookies() if c["name"] == COOKIE] == [
            cookie["value"]
        ]
        again = send(driver, "can you read it to me please", 0)
        assert again[:2] == [TURNED_ON, AGAIN]
        assert again[2].startswith(first[0].split("\n")[0])
        WebDriverWait(driver, 90).until(  # read aloud: the answer's audio plays by itself
            lambda d: d.find_elements(By.CSS_SELECTOR, "li.bot audio")
        )
        audio = driver.find_element(By.CSS_SELECTOR, "li.bot audio").get_attribute("src")
        assert "/webhooks/webchat/audio/" in audio and audio.endswith(".wav")

    with sqlite3.connect(assistant.workdir / "tracker.db") as db:
        rows = db.execute(
            "select distinct sender_id from events where sender_id like 'web-%'"
        ).fetchall()
    assert rows == [(conversation,)]
