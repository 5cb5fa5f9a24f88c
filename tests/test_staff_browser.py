"""The staff console in real headless Chromium, beside the real Rasa and action servers.

Keyboard only (Tab, typing, Enter, Space), axe-core at WCAG 2.2 AA on every page at 100%
and at 400% zoom, and the flows staff depend on: a family raises a case by signed SMS, a
service account made by the admin acknowledges it, and the family's phone (the Twilio fake)
gets the update; a flag reviewed; "You said, we did" published and sent; a directory edit
that changes the assistant's answer.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import servers
from scripts.sms_try import signed_post, sms_texts
from tests.browser import (
    activate,
    axe_violations,
    by_name,
    by_text,
    chromium,
    describe,
    press,
    require_chromium,
    reset_zoom,
    scrolls_sideways,
    starting,
    tab_to,
    type_into,
    wait_for,
    zoom_400,
)
from tests.conftest import free_port
from tests.fakes.env import fakes_env
from tests.fakes.twilio_api import FakeTwilio

pytestmark = pytest.mark.e2e
TOKEN = "test-auth-token"
PUBLIC_URL = "https://send-assistant.example.org"
PASSWORD = "staff console test password"
ADMIN = "admin@example.org"
LOCAL_OFFER = "local.offer@example.org"
LEAD = "safeguarding.lead@example.org"
SCREENSHOTS = os.environ.get("STAFF_SCREENSHOTS")  # a folder, e.g. docs, to keep them


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, fake_twilio) -> Iterator[servers.Assistant]:
    require_chromium()
    workdir = tmp_path_factory.mktemp("staff")
    env = fakes_env(
        fake_twilio, auth_token=TOKEN, pseudonym_key="test-pseudonym-key",
        STAFF_SECRET_KEY="test-staff-secret-key",
    )  # fmt: skip
    with servers.running(
        rasa_port=free_port(), actions_port=free_port(), workdir=workdir, env=env, quiet=True,
        staff_port=free_port(),
    ) as running:  # fmt: skip
        for email, role in ((ADMIN, "admin"), (LOCAL_OFFER, "local_offer"), (LEAD, "safeguarding")):
            staff_add(running, email, role)
        yield running


def staff_add(assistant: servers.Assistant, email: str, role: str) -> None:
    """`python -m bot staff add EMAIL --role ROLE --password-stdin`, as the README says."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{assistant.workdir / 'app.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", email, "--role", role, "--password-stdin"],
        input=PASSWORD + "\n", text=True, capture_output=True, cwd=servers.ROOT, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Made an account for {email}")


def text_in(assistant: servers.Assistant, body: str, phone: str) -> list[str]:
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "1" * 32,
              "From": phone, "To": "+447700900000", "Body": body}  # fmt: skip
    status, twiml = signed_post(assistant.base_url, PUBLIC_URL, TOKEN, params)
    assert status == 200, twiml
    return sms_texts(twiml)


def rows(assistant: servers.Assistant, query: str, *args: object) -> list[tuple]:
    with sqlite3.connect(assistant.workdir / "app.db") as db:
        return db.execute(query, args).fetchall()


def check_page(driver, name: str, folder: Path | None = None) -> None:
    """axe at WCAG 2.2 AA at 100% and at 400% zoom, and no sideways scrolling at 400%."""
    if not name.startswith("not-"):
        assert "Page not found" not in driver.title and "cannot see" not in driver.title, name
    violations = axe_violations(driver)
    assert violations == [], f"{name} at 100%:\n{describe(violations)}"
    if folder is not None:
        driver.save_screenshot(str(folder / f"staff-{name}.png"))
    zoom_400(driver)  # the page reflows in place (no reload: a POST's answer stays)
    try:
        violations = axe_violations(driver)
        assert violations == [], f"{name} at 400%:\n{describe(violations)}"
        assert not scrolls_sideways(driver), f"{name} scrolls sideways at 400%"
    finally:
        reset_zoom(driver)


def shows(driver, text: str, timeout: float = 10) -> bool:
    """The page shows ``text`` (waiting for the answer to a form just sent)."""
    return bool(wait_for(lambda: text in driver.page_source, timeout=timeout))


def log_in(driver, assistant: servers.Assistant, email: str, password: str = PASSWORD) -> None:
    """Log in with the keyboard alone: Tab to each field, type, Enter."""
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{assistant.staff_url}/login")
    type_into(driver, by_name("email"), email)
    type_into(driver, by_name("password"), password)
    press(driver, Keys.ENTER)
    wait_for(lambda: "/login" not in driver.current_url, timeout=10)
    assert "/login" not in driver.current_url, driver.page_source[:2000]


def log_out(driver) -> None:
    activate(driver, by_text("Log out"))
    wait_for(lambda: "/login" in driver.current_url, timeout=10)


def test_an_admin_makes_a_service_account_that_acknowledges_a_family_s_sms_case(
    assistant, fake_twilio
):
    from selenium.webdriver.common.keys import Keys

    phone = "+447700900654"
    (confirm,) = text_in(assistant, "the school taxi didnt turn up again this morning", phone)
    assert confirm.startswith("I can send this to SEND Travel Assistance.")
    (sent,) = text_in(assistant, "yes", phone)
    reference = sent.split("reference is ")[1].split(".")[0]
    other = another_service_case(assistant)
    with chromium() as driver:
        log_in(driver, assistant, ADMIN)
        assert driver.current_url.endswith("/accounts")
        activate(driver, by_text("Make an account"))
        type_into(driver, by_name("email"), "travel.officer@example.org")
        type_into(driver, by_name("password"), "a new officer password")
        tab_to(driver, by_name("role"))  # the first role, service staff
        press(driver, Keys.SPACE)
        tab_to(driver, by_name("service"))
        press(driver, "SEND Travel")  # type-ahead picks the service in the list
        activate(driver, by_text("Make the account"))
        assert shows(driver, "Account made for travel.officer@example.org")
        log_out(driver)

        log_in(driver, assistant, "travel.officer@example.org", "a new officer password")
        assert driver.current_url.endswith("/cases")
        assert reference in driver.page_source and "for SEND Travel Assistance" in (
            driver.page_source
        )
        assert other not in driver.page_source  # send_team's case is not theirs
        activate(driver, by_text(reference))
        assert shows(driver, "the school taxi didnt turn up again this morning")
        type_into(driver, by_name("message"), "We will ring you on Monday.")
        before = len(fake_twilio.sent)
        activate(driver, starting("Save and tell the family"))
        assert shows(driver, f"Case {reference} is now acknowledged.")
    expected = f"Your case {reference} has been picked up by the team.\nWe will ring you on Monday."
    arrived = wait_for(
        lambda: [s for s in fake_twilio.sent[before:] if s["To"] == phone], timeout=30
    )
    assert [s["Body"] for s in arrived] == [expected]


def another_service_case(assistant: servers.Assistant) -> str:
    """A case for the SEND team, raised on the web chat (through bot/, as the action does)."""
    from bot.db import make_engine
    from bot.routing.cases import create_case
    from bot.routing.rules import Decision, load_routing

    engine = make_engine(f"sqlite:///{assistant.workdir / 'app.db'}")
    case = create_case(
        engine, load_routing(), Decision("send_team", "ehcp", "normal", "rule"),
        "we have waited 30 weeks for the EHCP", "webchat", "webchat-other", False, "t-other",
    )  # fmt: skip
    engine.dispose()
    return case.reference


def test_the_safeguarding_lead_reviews_a_flag_with_a_note(assistant):
    phone = "+447700900777"
    (reply,) = text_in(assistant, "i want to kill myself", phone)
    assert "999" in reply
    (flag_id,) = rows(assistant, "select max(id) from safety_flags")[0]
    with chromium() as driver:
        log_in(driver, assistant, LEAD)
        assert driver.current_url.endswith("/flags")
        activate(driver, by_text(f"Flag {flag_id}"))
        assert shows(driver, "i want to kill myself")  # the conversation, for this role
        type_into(driver, by_name("note"), "Called the family; no immediate risk.")
        activate(driver, by_text("Mark as reviewed"))
        assert shows(driver, f"Flag {flag_id} is marked as reviewed.")
    assert rows(assistant, "select reviewed_by, review_note from safety_flags where id = ?",
                flag_id) == [(LEAD, "Called the family; no immediate risk.")]  # fmt: skip


def test_publishing_you_said_we_did_texts_the_family_who_asked_to_hear(assistant, fake_twilio):
    phone = "+447700900888"
    for answer in ("I want to give feedback", "SEND Travel Assistance", "2",
                   "the taxi is late every morning"):  # fmt: skip
        text_in(assistant, answer, phone)
    (thanks,) = text_in(assistant, "yes", phone)
    assert "We will reply" in thanks
    with chromium() as driver:
        log_in(driver, assistant, LOCAL_OFFER)
        driver.get(f"{assistant.staff_url}/you-said")
        type_into(driver, by_name("you_said"), "School taxis were late.")
        type_into(driver, by_name("we_did"), "We changed the taxi firm on 3 routes.")
        tab_to(driver, by_name("service"))
        press(driver, "SEND Travel")
        activate(driver, by_text("Preview"))
        assert shows(driver, "<strong>1</strong> family will be sent this")
        before = len(fake_twilio.sent)
        activate(driver, by_text("Publish and tell families"))
        assert shows(driver, "Published. 1 families will be sent it")
    arrived = wait_for(lambda: [s for s in fake_twilio.sent[before:] if s["To"] == phone])
    assert [s["Body"] for s in arrived] == [
        "You said: School taxis were late.\nWe did: We changed the taxi firm on 3 routes.\n"
        "Thank you for telling us."
    ]


def test_editing_a_directory_entry_changes_the_assistant_s_answer(assistant):
    question = "who helps with school transport"
    first = " ".join(m.get("text", "") for m in assistant.say("dir-before", question))
    assert "SEND Travel Assistance" in first and "01632 960121" in first
    with chromium() as driver:
        log_in(driver, assistant, LOCAL_OFFER)
        driver.get(f"{assistant.staff_url}/directory/travel_assistance")
        activate(driver, starting("Change this entry"))
        type_into(driver, by_name("phone"), "07700 900999", clear=True)
        activate(driver, by_text("Check and preview"))
        assert shows(driver, "SEND Travel Assistance: Help getting to school")
        assert "Call 07700 900999." in driver.page_source
        activate(driver, by_text("Save"))
        assert shows(driver, "SEND Travel Assistance: edited.")
        assert "local.offer@example.org" in driver.page_source  # the history says who

    def answer() -> str:
        said = assistant.say(f"dir-after-{uuid.uuid4().hex[:6]}", question)
        return " ".join(m.get("text", "") for m in said)

    changed = wait_for(lambda: "07700 900999" in answer(), timeout=20, every=1)
    assert changed, "the assistant still gives the old number"


def test_every_page_passes_axe_at_wcag_2_2_aa_at_100_and_400_percent(assistant, tmp_path):
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    reference = another_service_case(assistant)
    text_in(assistant, "i want to end my life", "+447700900999")
    (flag_id,) = rows(assistant, "select max(id) from safety_flags")[0]
    with chromium() as driver:
        driver.get(f"{assistant.staff_url}/login")
        check_page(driver, "login", folder)
        press_enter_on_empty_login(driver)
        check_page(driver, "login-errors")
        log_in(driver, assistant, LOCAL_OFFER)
        for name, path in [
            ("cases", "/cases"), ("case", f"/cases/{reference}"), ("outbox", "/outbox"),
            ("feedback", "/feedback"), ("you-said", "/you-said"), ("directory", "/directory"),
            ("entry", "/directory/sendiass"), ("entry-edit", "/directory/sendiass/edit"),
            ("entry-new", "/directory/new"), ("import", "/directory/import"),
            ("not-allowed", "/accounts"), ("not-found", "/cases/TW-NOPE22"),
        ]:  # fmt: skip
            driver.get(f"{assistant.staff_url}{path}")
            check_page(driver, name, folder if name not in ("not-allowed", "not-found") else None)
        driver.get(f"{assistant.staff_url}/directory/new")
        activate(driver, by_text("Check and preview"))  # an empty form: every error shown
        assert shows(driver, "There is a problem")
        check_page(driver, "entry-errors")
        log_out(driver)
        log_in(driver, assistant, LEAD)
        for name, path in [("flags", "/flags"), ("flag", f"/flags/{flag_id}")]:
            driver.get(f"{assistant.staff_url}{path}")
            check_page(driver, name, folder if name == "flags" else None)
        log_out(driver)
        log_in(driver, assistant, ADMIN)
        for name, path in [("accounts", "/accounts"), ("account-new", "/accounts/new"),
                           ("audit", "/audit")]:  # fmt: skip
            driver.get(f"{assistant.staff_url}{path}")
            check_page(driver, name, folder if name != "account-new" else None)


def press_enter_on_empty_login(driver) -> None:
    from selenium.webdriver.common.keys import Keys

    tab_to(driver, by_name("email"))
    press(driver, Keys.ENTER)
    wait_for(lambda: "There is a problem" in driver.page_source, timeout=10)


def words_of(element) -> str:  # type: ignore[no-untyped-def]
    """An element's whole text, with what is there only for screen readers."""
    return " ".join((element.get_attribute("textContent") or "").split())


def test_a_reset_password_is_changed_at_the_next_login_with_the_keyboard(assistant, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    email = "reset.me@example.org"
    staff_add(assistant, email, "local_offer")
    with chromium() as driver:
        log_in(driver, assistant, ADMIN)
        activate(driver, lambda e: words_of(e) == f"Reset password for {email}")
        assert shows(driver, "Password reset for")
        one_time = driver.find_element(By.ID, "one-time-password").text
        assert len(one_time) == 19 and one_time.count("-") == 3
        check_page(driver, "account-reset", folder)
        log_out(driver)

        log_in(driver, assistant, email, one_time)
        assert driver.current_url.endswith("/password")  # nothing else until it is changed
        assert "An admin reset your password. Choose a new one" in driver.page_source
        check_page(driver, "password-first")
        type_into(driver, by_name("current_password"), one_time)
        type_into(driver, by_name("new_password"), "my very own password")
        type_into(driver, by_name("confirm_password"), "my very own password")
        press(driver, Keys.ENTER)
        wait_for(lambda: driver.current_url.endswith("/cases"), timeout=10)
        assert "Your password is changed." in driver.page_source

        activate(driver, by_text("Change your password"))
        wait_for(lambda: driver.current_url.endswith("/password"), timeout=10)
        check_page(driver, "password", folder)
        activate(driver, by_text("Change my password"))  # nothing typed: the errors
        assert shows(driver, "There is a problem")
        check_page(driver, "password-errors")
        log_out(driver)
        log_in(driver, assistant, email, "my very own password")
    assert rows(
        assistant, "select must_change_password from staff_accounts where email = ?", email
    ) == [(0,)]
