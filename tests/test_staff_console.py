"""The staff console over a real (temporary) database, through Starlette's test client.

The first test walks every route for every role (and for nobody signed in): a role that may
not use a page gets 403 (or 404 for another service's case), and the table must name every
route the app has, so a new page without a rule fails here.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.config import load_settings
from bot.db import make_engine
from bot.directory.store import save_directory
from bot.notify.outbox import DEAD, dead_letters, deliver_due, enqueue, messages_for
from bot.notify.senders import TwilioSmsSender
from bot.routing.cases import get_case, history, service_message
from bot.routing.rules import load_routing
from bot.safety_log import get_flag
from bot.staff import audit
from bot.staff.accounts import LOCK_MINUTES, MAX_FAILURES, create_account, find_account
from bot.staff.directory_edit import history as entry_history
from bot.staff.inbox import case_messages
from staff.app import create_app
from tests.conftest import DATA
from tests.fakes.twilio_api import FakeTwilio
from tests.staff_helpers import (
    ACCOUNTS,
    FAMILY_PHONE,
    FAMILY_SENDER,
    PASSWORD,
    Seeded,
    csrf_of,
    make_accounts,
    seed,
)

ROLES = list(ACCOUNTS)


@pytest.fixture
def routing():
    return load_routing()


@pytest.fixture
def console(any_engine: Engine, sample_directory, routing, tmp_path: Path) -> Iterator[tuple]:
    """The console over SQLite, then over PostgreSQL (production's database), with the
    conversation in a Rasa tracker store of the same kind."""
    save_directory(any_engine, sample_directory)
    if any_engine.dialect.name == "sqlite":
        tracker = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    else:
        server_clock_elsewhere(any_engine)
        tracker = any_engine  # the tracker's events table in the test's own schema
    seeded = seed(any_engine, routing, tracker)
    make_accounts(any_engine)
    app = create_app(
        any_engine,
        load_settings(),
        routing=routing,
        tracker_engine=tracker,
        var_dir=tmp_path / "var",
    )
    yield app, any_engine, seeded
    if tracker is not any_engine:
        tracker.dispose()


def server_clock_elsewhere(engine: Engine, zone: str = "America/New_York") -> None:
    """A PostgreSQL server whose ``TimeZone`` is not UTC: it hands times back in that zone,
    and the console must still show and filter on a UK clock."""

    @event.listens_for(engine, "connect")
    def _zone(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute(f"set time zone '{zone}'")
        cursor.close()

    engine.dispose()  # connections made before now had the server's zone


def client_for(app, role: str | None) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    if role is not None:
        email = ACCOUNTS[role][0]
        page = client.get("/login")
        reply = client.post(
            "/login",
            data={"csrf_token": csrf_of(page.text), "email": email, "password": PASSWORD},
            follow_redirects=False,
        )
        assert reply.status_code == 303, reply.text
    return client


def _session_token(client: TestClient) -> str:
    """The CSRF token of a signed-in client, read from a page with a form (log out)."""
    reply = client.get("/", follow_redirects=True)
    return csrf_of(reply.text)


EVERYONE = set(ROLES)
CASE_READERS = {"local_offer", "travel", "send_team"}


def route_table(seeded: Seeded, engine: Engine) -> list[tuple[str, str, dict, set[str]]]:
    """(method, path, form, roles allowed). POST forms are valid enough to pass the guard and
    invalid enough to change nothing that later rows rely on."""
    taxi, flag = seeded.taxi.reference, seeded.flag_id
    spare = find_account(engine, ACCOUNTS["send_team"][0])
    assert spare is not None
    nobody = create_account(engine, "spare@example.org", PASSWORD, "local_offer")  # to reset
    dead = enqueue(engine, "email", "nobody@example.org", "x")
    return [
        ("GET", "/", {}, EVERYONE),
        ("GET", "/cases", {}, CASE_READERS),
        ("GET", f"/cases/{taxi}", {}, {"local_offer", "travel"}),  # not send_team's
        ("POST", f"/cases/{taxi}/update", {"status": "nonsense"}, {"local_offer", "travel"}),
        ("POST", f"/cases/{taxi}/reassign", {"service": "nowhere"}, {"local_offer", "travel"}),
        ("GET", "/outbox", {}, {"local_offer"}),
        ("POST", f"/outbox/{dead}/retry", {}, {"local_offer"}),
        ("GET", "/flags", {}, {"safeguarding"}),
        ("GET", f"/flags/{flag}", {}, {"safeguarding"}),
        ("POST", f"/flags/{flag}/review", {"note": ""}, {"safeguarding"}),
        ("GET", "/feedback", {}, {"local_offer", "travel", "send_team"}),
        ("GET", "/feedback/export.csv", {}, {"local_offer", "travel", "send_team"}),
        ("GET", "/you-said", {}, {"local_offer"}),
        ("POST", "/you-said", {"you_said": ""}, {"local_offer"}),
        ("GET", "/directory", {}, {"local_offer"}),
        ("GET", "/directory/new", {}, {"local_offer"}),
        ("POST", "/directory/new", {"key": "Bad Key"}, {"local_offer"}),
        ("GET", "/directory/import", {}, {"local_offer"}),
        ("POST", "/directory/import", {}, {"local_offer"}),
        ("GET", "/directory/sendiass", {}, {"local_offer"}),
        ("GET", "/directory/sendiass/edit", {}, {"local_offer"}),
        ("POST", "/directory/sendiass/edit", {"name": ""}, {"local_offer"}),
        ("GET", "/accounts", {}, {"admin"}),
        ("GET", "/accounts/new", {}, {"admin"}),
        ("POST", "/accounts/new", {"email": "not an email"}, {"admin"}),
        ("POST", f"/accounts/{spare.id}/unlock", {}, {"admin"}),
        ("POST", f"/accounts/{spare.id}/active", {"active": "yes"}, {"admin"}),
        ("POST", f"/accounts/{nobody.id}/password", {}, {"admin"}),
        ("GET", "/audit", {}, {"admin"}),
        ("GET", "/password", {}, EVERYONE),
        ("POST", "/password", {"current_password": ""}, EVERYONE),
    ]


PUBLIC_ROUTES = {("GET", "/health"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}


def _template(path: str, routes: list[Route]) -> str:
    for route in routes:
        match, _ = route.matches({"type": "http", "path": path, "method": "GET"})
        if match.name != "NONE":
            return route.path
    raise AssertionError(f"no route for {path}")


def test_every_route_for_every_role(console):
    app, engine, seeded = console
    table = route_table(seeded, engine)
    routes = [r for r in app.routes if isinstance(r, Route)]
    declared = {(m, r.path) for r in routes for m in (r.methods or ()) if m != "HEAD"}
    covered = {(m, _template(p, routes)) for m, p, _, _ in table} | PUBLIC_ROUTES
    assert covered == declared, "the table must name every route of the console"

    for role in [None, *ROLES]:
        client = client_for(app, role)
        csrf = _session_token(client) if role else csrf_of(client.get("/login").text)
        for method, path, form, allowed in table:
            if method == "GET":
                reply = client.get(path, follow_redirects=False)
            else:
                reply = client.post(path, data={"csrf_token": csrf, **form}, follow_redirects=False)
            where = f"{role} {method} {path}"
            if role is None:
                assert reply.status_code == 303, where
                assert reply.headers["location"].startswith("/login?next="), where
            elif role in allowed:
                assert reply.status_code in (200, 303, 400, 409), f"{where}: {reply.status_code}"
                assert not reply.headers.get("location", "").startswith("/login"), where
            elif path.startswith("/cases/") and role in CASE_READERS:
                assert reply.status_code == 404, where  # another service's case: not found
            else:
                assert reply.status_code == 403, f"{where}: {reply.status_code}"
                assert "You cannot see this page" in reply.text


def test_service_staff_see_only_their_own_service(console):
    app, engine, seeded = console
    travel = client_for(app, "travel")
    inbox = travel.get("/cases").text
    assert seeded.taxi.reference in inbox and seeded.ehcp.reference not in inbox
    assert "The directory is sample data." in inbox  # every page says so while it is
    assert "Signed in as travel@example.org (Service staff, SEND Travel Assistance)" in inbox
    assert travel.get(f"/cases/{seeded.ehcp.reference}").status_code == 404
    feedback = travel.get("/feedback?service=send_team").text
    assert "nobody answers the phone" not in feedback and "the new driver is kind" in feedback
    rows = list(csv.reader(io.StringIO(travel.get("/feedback/export.csv?service=send_team").text)))
    assert [r[3] for r in rows[1:]] == ["travel_assistance", "travel_assistance"]

    everyone = client_for(app, "local_offer").get("/cases").text
    assert seeded.taxi.reference in everyone and seeded.ehcp.reference in everyone


def test_acknowledging_a_case_sends_the_family_the_cli_text_by_sms(console):
    app, engine, seeded = console
    travel = client_for(app, "travel")
    reference = seeded.taxi.reference
    page = travel.get(f"/cases/{reference}")
    assert "the school taxi didnt turn up again" in page.text
    reply = travel.post(
        f"/cases/{reference}/update",
        data={
            "csrf_token": csrf_of(page.text),
            "status": "acknowledged",
            "message": "We will ring you on Monday.",
        },
        follow_redirects=True,
    )
    assert reply.status_code == 200
    assert f"Case {reference} is now acknowledged." in reply.text
    assert get_case(engine, reference).status == "acknowledged"
    assert history(engine, reference)[-1].by == "travel@example.org"
    (family,) = (m for m in messages_for(engine, FAMILY_SENDER))
    expected = f"Your case {reference} has been picked up by the team.\nWe will ring you on Monday."
    assert family.body == expected  # the same text `python -m bot cases ack --message` sends

    with FakeTwilio() as fake:  # the outbox worker sends it through the real twilio client
        sender = TwilioSmsSender("AC" + "1" * 32, "token", "+447700900000", base_url=fake.base_url)
        report = asyncio.run(deliver_due(engine, {"sms": sender}))
        assert report.sent == 1
        (sms,) = (s for s in fake.sent if s["To"] == FAMILY_PHONE)
        assert sms["Body"] == expected
    assert "We will ring you on Monday." in travel.get(f"/cases/{reference}").text
    (entry, *_) = audit.recent(engine, actor="travel@example.org")
    assert (entry.action, entry.target) == ("case acknowledged", reference)


def test_a_case_can_be_passed_to_another_service(console):
    app, engine, seeded = console
    travel = client_for(app, "travel")
    reference = seeded.taxi.reference
    page = travel.get(f"/cases/{reference}")
    reply = travel.post(
        f"/cases/{reference}/reassign",
        data={"csrf_token": csrf_of(page.text), "service": "send_team", "note": "EHCP transport"},
        follow_redirects=False,
    )
    assert reply.headers["location"] == "/cases"  # no longer theirs to see
    assert (
        f"Case {reference} was passed to SEND Team (0-25). The family will be told."
        in travel.get("/cases").text
    )
    assert get_case(engine, reference).service_key == "send_team"
    assert travel.get(f"/cases/{reference}").status_code == 404
    assert client_for(app, "send_team").get(f"/cases/{reference}").status_code == 200
    note = history(engine, reference)[-1].note
    assert note == "reassigned from travel_assistance to send_team: EHCP transport"

    # The new service hears of it exactly as a new case is sent (the same message, kind and
    # links to the family, so "delete my data" reaches it and delivery marks the case sent).
    case = get_case(engine, reference)
    (notice,) = (
        m
        for m in messages_for(engine, "https://www.example.org/hooks/send-team")
        if m.case_reference == reference
    )
    assert (notice.channel, notice.kind, notice.person, notice.case_reference) == (
        "webhook",
        "service",
        FAMILY_SENDER,
        reference,
    )
    assert notice.body == (
        f"New case {reference} (normal) from the SEND Local Offer assistant.\n"
        "Category: transport\nChannel: sms\n"
        "What the family said:\nthe school taxi didnt turn up again\n\n"
        f"Please acknowledge it in the staff console: http://localhost:5080/cases/{reference}"
    )
    assert notice.body == service_message(case, "http://localhost:5080")
    (first,) = messages_for(engine, "travel-assistance@example.org")
    assert first.kind == notice.kind and first.person == notice.person  # one way to tell

    # The family is told on their own channel who has their case now, in easy-read words.
    (family,) = messages_for(engine, FAMILY_SENDER)
    assert (family.channel, family.kind, family.case_reference) == ("sms", "case_update", reference)
    assert (
        family.body == f"Your case {reference} is now with SEND Team (0-25). They will contact you."
    )
    assert [m.id for m in case_messages(engine, reference)] == [first.id, notice.id, family.id]

    # Passed back: the first service is told again (a new message, not a duplicate).
    local_offer = client_for(app, "local_offer")
    page = local_offer.get(f"/cases/{reference}")
    local_offer.post(
        f"/cases/{reference}/reassign",
        data={"csrf_token": csrf_of(page.text), "service": "travel_assistance"},
    )
    assert len(messages_for(engine, "travel-assistance@example.org")) == 2
    assert [m.body for m in messages_for(engine, FAMILY_SENDER)][-1] == (
        f"Your case {reference} is now with SEND Travel Assistance. They will contact you."
    )


def test_a_case_passed_on_for_a_family_who_gave_no_way_to_reach_them_tells_only_the_service(
    console,
):
    app, engine, seeded = console
    team = client_for(app, "local_offer")
    reference = seeded.ehcp.reference  # raised on the web chat, no contact kept
    page = team.get(f"/cases/{reference}")
    team.post(
        f"/cases/{reference}/reassign",
        data={"csrf_token": csrf_of(page.text), "service": "sendiass"},
    )
    (notice,) = messages_for(engine, "sendiass-cases@example.org")
    assert notice.kind == "service" and notice.case_reference == reference
    assert [m.recipient for m in case_messages(engine, reference)] == [
        "https://www.example.org/hooks/send-team",
        "sendiass-cases@example.org",
    ]


def test_overdue_and_escalated_cases_come_first_and_show_it(console, routing):
    app, engine, seeded = console
    from bot.routing.cases import escalate_overdue

    later = seeded.taxi.due_at + timedelta(hours=1)
    escalate_overdue(engine, routing, now=later)
    page = client_for(app, "local_offer").get("/cases").text
    assert "Escalated" in page and "Overdue" not in page  # not overdue yet in real time

    from bot.staff.inbox import inbox

    views = inbox(engine, routing, None, "new", now=later)
    assert [v.case.reference for v in views][0] == seeded.taxi.reference
    assert views[0].overdue


def test_forms_without_the_csrf_token_change_nothing(console):
    app, engine, seeded = console
    travel = client_for(app, "travel")
    reply = travel.post(f"/cases/{seeded.taxi.reference}/update", data={"status": "closed"})
    assert reply.status_code == 403 and "This form has expired" in reply.text
    reply = travel.post(
        f"/cases/{seeded.taxi.reference}/update", data={"status": "closed", "csrf_token": "forged"}
    )
    assert reply.status_code == 403
    assert get_case(engine, seeded.taxi.reference).status == seeded.taxi.status == "new"
    anonymous = TestClient(app)
    assert (
        anonymous.post(
            "/login", data={"email": "admin@example.org", "password": PASSWORD}
        ).status_code
        == 403
    )


def test_repeated_wrong_passwords_lock_the_account(console):
    app, engine, _ = console
    client = TestClient(app)
    for _attempt in range(MAX_FAILURES):
        page = client.get("/login")
        reply = client.post(
            "/login",
            data={
                "csrf_token": csrf_of(page.text),
                "email": "travel@example.org",
                "password": "wrong",
            },
        )
    assert reply.status_code == 401
    assert f"locked for {LOCK_MINUTES} minutes" in reply.text
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "travel@example.org",
            "password": PASSWORD,
        },
    )
    assert reply.status_code == 401 and "locked" in reply.text
    actions = [e.action for e in audit.recent(engine, actor="travel@example.org")]
    assert actions[0] == "login locked" and actions.count("login wrong") == MAX_FAILURES - 1

    admin = client_for(app, "admin")
    account = find_account(engine, "travel@example.org")
    assert account is not None and account.locked_until is not None
    admin.post(f"/accounts/{account.id}/unlock", data={"csrf_token": _session_token(admin)})
    client_for(app, "travel")  # logs in again


def test_session_cookie_is_signed_httponly_samesite_and_secure_on_https(loaded_engine, tmp_path):
    import dataclasses

    make_accounts(loaded_engine)
    settings = dataclasses.replace(load_settings(), staff_public_url="https://staff.example.org")
    app = create_app(loaded_engine, settings, var_dir=tmp_path)
    client = TestClient(app, base_url="https://testserver")
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "email": "admin@example.org", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    assert "content-security-policy" in reply.headers
    tampered = client.cookies["staff_session"][:-4] + "AAAA"
    other = TestClient(app, base_url="https://testserver", cookies={"staff_session": tampered})
    assert other.get("/accounts", follow_redirects=False).status_code == 303  # to /login


def _log_in(app, email: str, password: str):
    """One login attempt in a fresh browser: the client and the reply."""
    client = TestClient(app, base_url="http://testserver")
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "email": email, "password": password},
        follow_redirects=False,
    )
    return client, reply


def test_switching_an_account_off_ends_its_session_and_it_cannot_log_in(console):
    app, engine, _ = console
    travel = client_for(app, "travel")
    assert travel.get("/cases").status_code == 200
    admin = client_for(app, "admin")
    account = find_account(engine, "travel@example.org")
    assert account is not None
    done = admin.post(
        f"/accounts/{account.id}/active", data={"csrf_token": _session_token(admin), "active": "no"}
    )
    assert "travel@example.org is now off." in done.text
    reply = travel.get("/cases", follow_redirects=False)
    assert (reply.status_code, reply.headers["location"]) == (303, "/login?next=/cases")
    _, refused = _log_in(app, "travel@example.org", PASSWORD)  # the right password
    assert refused.status_code == 401
    assert "The email address or password is not right" in refused.text  # no hint it exists
    actions = [(e.action, e.target) for e in audit.recent(engine, limit=2)]
    assert actions == [("login off", ""), ("account switched off", "travel@example.org")]
    admin.post(
        f"/accounts/{account.id}/active",
        data={"csrf_token": _session_token(admin), "active": "yes"},
    )
    _, welcome = _log_in(app, "travel@example.org", PASSWORD)
    assert (welcome.status_code, welcome.headers["location"]) == (303, "/cases")


def _password_form(client: TestClient, current: str, new: str, confirm: str | None = None):
    page = client.get("/password")
    return client.post(
        "/password",
        data={
            "csrf_token": csrf_of(page.text),
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
        follow_redirects=False,
    )


def _stored_hash(engine: Engine, email: str) -> str:
    from bot.db import session_scope
    from bot.staff.accounts import StaffAccountRow

    account = find_account(engine, email)
    assert account is not None
    with session_scope(engine) as session:
        return str(session.get(StaffAccountRow, account.id).password_hash)


def test_staff_change_their_own_password_and_other_sessions_end(console):
    from argon2 import PasswordHasher

    app, engine, _ = console
    here, elsewhere = client_for(app, "travel"), client_for(app, "travel")
    before = _stored_hash(engine, "travel@example.org")
    new = "a brand new travel password"

    fields = {"current_password": PASSWORD, "new_password": new, "confirm_password": new}
    forged = here.post("/password", data={**fields, "csrf_token": "forged"})
    assert forged.status_code == 403 and "This form has expired" in forged.text
    for current, chosen, confirm, problem in [
        ("not my password", new, new, "Your current password is not right"),
        (PASSWORD, "too short", "too short", "The new password must be at least 12 characters"),
        (PASSWORD, new, new + "!", "The two new passwords are not the same"),
        (PASSWORD, PASSWORD, PASSWORD, "The new password must be different from the current one"),
    ]:
        reply = _password_form(here, current, chosen, confirm)
        assert reply.status_code == 400 and problem in reply.text, problem
    assert _stored_hash(engine, "travel@example.org") == before  # nothing changed yet

    done = _password_form(here, PASSWORD, new)
    assert (done.status_code, done.headers["location"]) == (303, "/cases")
    assert (
        "Your password is changed. You were logged out everywhere else." in here.get("/cases").text
    )
    assert here.get("/cases").status_code == 200  # this session goes on
    ended = elsewhere.get("/cases", follow_redirects=False)
    assert ended.headers["location"] == "/login?next=/cases"  # the other one has ended
    stored = _stored_hash(engine, "travel@example.org")
    assert stored.startswith("$argon2id$") and PasswordHasher().verify(stored, new)
    assert _log_in(app, "travel@example.org", PASSWORD)[1].status_code == 401
    assert _log_in(app, "travel@example.org", new)[1].status_code == 303
    mine = [(e.action, e.detail) for e in audit.recent(engine, actor="travel@example.org")]
    assert mine[:3] == [("login", ""), ("login wrong", ""), ("password changed", "")]
    assert mine.count(("password change refused", "current_password")) == 1
    assert mine.count(("password change refused", "new_password")) == 2
    assert mine.count(("password change refused", "confirm_password")) == 1


def test_an_admin_resets_a_password_to_a_one_time_password_changed_at_next_login(console):
    import re

    app, engine, _ = console
    travel = client_for(app, "travel")
    admin = client_for(app, "admin")
    account = find_account(engine, "travel@example.org")
    me = find_account(engine, "admin@example.org")
    assert account is not None and me is not None

    own = admin.post(f"/accounts/{me.id}/password", data={"csrf_token": _session_token(admin)})
    assert "Change your own password with" in own.text  # not reset: nothing to show
    shown = admin.post(
        f"/accounts/{account.id}/password", data={"csrf_token": _session_token(admin)}
    )
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert "Password reset for travel@example.org" in shown.text
    assert "This is the only time it is shown." in shown.text
    match = re.search(r'id="one-time-password">([^<]+)<', shown.text)
    assert match
    one_time = match.group(1)
    assert re.fullmatch(r"[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){3}", one_time)
    assert "must choose a new password" in admin.get("/accounts").text
    (entry,) = audit.recent(engine, limit=1)
    assert (entry.actor, entry.action, entry.target, entry.detail) == (
        "admin@example.org", "password reset", "travel@example.org", "must change at next login",
    )  # fmt: skip
    assert all(one_time not in e.detail for e in audit.recent(engine))

    ended = travel.get("/cases", follow_redirects=False)
    assert ended.headers["location"] == "/login?next=/cases"  # their session has ended
    assert _log_in(app, "travel@example.org", PASSWORD)[1].status_code == 401
    client, first = _log_in(app, "travel@example.org", one_time)
    assert (first.status_code, first.headers["location"]) == (303, "/password")
    for path in ("/cases", "/feedback", f"/cases/{'TW-ANY123'}"):
        held = client.get(path, follow_redirects=False)
        assert (held.status_code, held.headers["location"]) == (303, "/password"), path
    page = client.get("/password").text
    assert "An admin reset your password. Choose a new one before you go on." in page
    assert 'href="/feedback"' not in page  # no sections to go to until it is changed
    done = _password_form(client, one_time, "my own new travel password")
    assert (done.status_code, done.headers["location"]) == (303, "/cases")
    assert client.get("/cases").status_code == 200
    changed = find_account(engine, "travel@example.org")
    assert changed is not None and not changed.must_change_password
    assert _log_in(app, "travel@example.org", one_time)[1].status_code == 401  # used once
    assert _log_in(app, "travel@example.org", "my own new travel password")[1].status_code == 303


def test_a_reset_unlocks_a_locked_account(console):
    app, engine, _ = console
    for _attempt in range(MAX_FAILURES):
        _log_in(app, "travel@example.org", "wrong")
    account = find_account(engine, "travel@example.org")
    assert account is not None and account.locked_until is not None
    admin = client_for(app, "admin")
    shown = admin.post(
        f"/accounts/{account.id}/password", data={"csrf_token": _session_token(admin)}
    )
    import re

    match = re.search(r'id="one-time-password">([^<]+)<', shown.text)
    assert match
    _, reply = _log_in(app, "travel@example.org", match.group(1))
    assert (reply.status_code, reply.headers["location"]) == (303, "/password")


def test_an_admin_makes_a_service_account_that_then_logs_in(console):
    app, engine, _ = console
    admin = client_for(app, "admin")
    page = admin.get("/accounts/new")
    bad = admin.post(
        "/accounts/new",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "jo@example.org",
            "password": "short",
            "role": "service",
        },
    )
    assert bad.status_code == 400
    assert "at least 12 characters" in bad.text and "Choose the service" in bad.text
    good = admin.post(
        "/accounts/new",
        data={
            "csrf_token": csrf_of(page.text),
            "email": "Jo@Example.org",
            "password": "twelve chars!!",
            "role": "service",
            "service": "short_breaks",
        },
        follow_redirects=True,
    )
    assert "Account made for jo@example.org" in good.text
    account = find_account(engine, "jo@example.org")
    assert account is not None and account.service_key == "short_breaks"
    from bot.db import session_scope
    from bot.staff.accounts import StaffAccountRow

    with session_scope(engine) as session:
        stored = session.get(StaffAccountRow, account.id).password_hash
    assert stored.startswith("$argon2id$") and "twelve" not in stored
    audit_page = admin.get("/audit").text
    assert "account created" in audit_page and "jo@example.org" in audit_page


def test_the_safeguarding_lead_reads_the_conversation_and_reviews_the_flag(console):
    app, engine, seeded = console
    lead = client_for(app, "safeguarding")
    page = lead.get(f"/flags/{seeded.flag_id}")
    assert "I don&#39;t feel safe at home tonight" in page.text
    assert "If you are in danger now, call 999." in page.text
    assert "self_harm" in page.text
    empty = lead.post(
        f"/flags/{seeded.flag_id}/review", data={"csrf_token": csrf_of(page.text), "note": ""}
    )
    assert empty.status_code == 400 and "Write what you found" in empty.text
    lead.post(
        f"/flags/{seeded.flag_id}/review",
        data={"csrf_token": csrf_of(page.text), "note": "Referred to the front door."},
    )
    flag = get_flag(engine, seeded.flag_id)
    assert flag.reviewed_by == "safeguarding@example.org"
    assert flag.review_note == "Referred to the front door."
    assert "Nothing to review." in lead.get("/flags").text


def test_feedback_charts_and_a_csv_that_spreadsheets_will_not_run(console):
    app, engine, _ = console
    team = client_for(app, "local_offer")
    page = team.get("/feedback").text
    assert "<svg" in page and 'pattern id="ratings-hatch"' in page
    assert "average 2.3 from 3" in page  # the chart's description names every value
    csv_text = team.get("/feedback/export.csv").text
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert rows[0] == [
        "id",
        "received (UK time)",
        "channel",
        "service",
        "rating",
        "themes",
        "feedback",
    ]
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil.example.org") taxi late' in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    by_channel = team.get("/feedback?channel=telegram").text
    assert "the new driver is kind" in by_channel and "nobody answers" not in by_channel
    bad = team.get("/feedback?from=yesterday")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text


def test_you_said_we_did_preview_then_publish_tells_the_right_families(console):
    app, engine, _ = console
    team = client_for(app, "local_offer")
    page = team.get("/you-said")
    form = {
        "csrf_token": csrf_of(page.text),
        "you_said": "School taxis were late.",
        "we_did": "We changed the taxi firm on 3 routes.",
        "service": "travel_assistance",
        "theme": "",
        "action": "preview",
    }
    preview = team.post("/you-said", data=form)
    assert "<strong>1</strong> family will be sent this" in preview.text
    assert "You said: School taxis were late.\nWe did: We changed the taxi firm on 3 routes." in (
        preview.text
    )
    assert messages_for(engine, "sms-feedback-0") == []  # a preview sends nothing
    done = team.post("/you-said", data={**form, "action": "publish"}, follow_redirects=True)
    assert "Published. 1 families will be sent it" in done.text
    (notice,) = messages_for(engine, "sms-feedback-0")
    assert notice.body.startswith("You said: School taxis were late.")


def test_a_directory_edit_is_checked_like_an_import_previewed_saved_and_recorded(console):
    app, engine, _ = console
    team = client_for(app, "local_offer")
    from bot.directory.store import directory_version

    version = directory_version(engine)  # what the action server compares to refresh
    page = team.get("/directory/sendiass/edit")
    assert 'value="01632 960101"' in page.text
    form = {k: v for k, v in _form_values(page.text).items()}
    bad = team.post(
        "/directory/sendiass/edit", data={**form, "phone": "020 7946 0000", "action": "save"}
    )
    assert bad.status_code == 400
    assert "phone &#39;020 7946 0000&#39; is not in the ranges reserved for fiction" in bad.text
    preview = team.post(
        "/directory/sendiass/edit", data={**form, "phone": "01632 960199", "action": "preview"}
    )
    assert "Call 01632 960199." in preview.text and "SMS part" in preview.text
    saved = team.post(
        "/directory/sendiass/edit",
        data={**form, "phone": "01632 960199", "action": "save"},
        follow_redirects=True,
    )
    assert "Telford &amp; Wrekin IASS (SENDIASS): edited" in saved.text
    assert directory_version(engine) != version
    (change,) = entry_history(engine, "sendiass")
    assert change.by == "local.offer@example.org"
    assert ("phone", "01632 960101", "01632 960199") in change.fields


def test_an_open_referral_import_is_dry_run_before_anything_changes(console):
    app, engine, _ = console
    from bot.directory.store import load_directory

    team = client_for(app, "local_offer")
    page = team.get("/directory/import")
    before = load_directory(engine)
    path = DATA / "oruk_services.json"
    checked = team.post(
        "/directory/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": (path.name, path.read_bytes(), "application/json")},
    )
    assert checked.status_code == 200
    assert load_directory(engine) == before  # the dry run changed nothing
    assert "2 to add: svc_0001, svc_0002" in checked.text
    assert "0 to change" in checked.text and "0 to remove" in checked.text
    import re

    tok = re.search(r'name="token" value="([^"]+)"', checked.text).group(1)
    applied = team.post(
        "/directory/import",
        data={"csrf_token": csrf_of(page.text), "token": tok, "suffix": ".json", "replace": "no"},
        follow_redirects=True,
    )
    assert "Imported: 2 added, 0 updated, 0 removed." in applied.text
    assert len(load_directory(engine).entries) == len(before.entries) + 2
    assert [c.action for c in entry_history(engine, "svc_0001")] == ["imported svc_0001"]
    bad = team.post(
        "/directory/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("x.json", b'[{"name": ""}]', "application/json")},
    )
    assert bad.status_code == 400 and "Nothing was changed" in bad.text


def test_dead_messages_are_listed_and_sent_again(console):
    app, engine, _ = console
    outbox_id = enqueue(engine, "nowhere", "x@example.org", "hello")
    asyncio.run(deliver_due(engine, {"nowhere": _Refuses()}))
    assert [r.id for r in dead_letters(engine)] == [outbox_id]
    team = client_for(app, "local_offer")
    page = team.get("/outbox")
    assert "Send again" in page.text and "refused" in page.text
    done = team.post(
        f"/outbox/{outbox_id}/retry", data={"csrf_token": csrf_of(page.text)}, follow_redirects=True
    )
    assert f"Message {outbox_id} will be sent again." in done.text
    assert dead_letters(engine) == []
    assert messages_for(engine, "x@example.org")[0].status != DEAD


class _Refuses:
    async def send(self, address: str, body: str) -> str:
        from bot.notify.outbox import PermanentFailure

        raise PermanentFailure("refused by the test")


def _form_values(html: str) -> dict[str, str]:
    """The values of a form's text inputs and textareas, as the browser would send them."""
    import html as html_lib
    import re

    values = {
        m.group(1): html_lib.unescape(m.group(2))
        for m in re.finditer(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html)
    }
    for m in re.finditer(r'<textarea[^>]*name="([a-z_]+)"[^>]*>([^<]*)</textarea>', html):
        values[m.group(1)] = html_lib.unescape(m.group(2)).strip()
    values["kind"] = "service"
    return values


def test_the_first_admin_is_made_from_the_command_line(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setattr("sys.stdin", io.StringIO("too short\n"))
    assert main(["staff", "add", "boss@example.org", "--role", "admin", "--password-stdin"]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "Boss@Example.org", "--role", "admin", "--password-stdin"]) == 0
    assert capsys.readouterr().out == (
        "Made an account for boss@example.org (Admin). Log in at /login.\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["staff", "add", "boss@example.org", "--role", "admin", "--password-stdin"]) == 2
    assert "There is already an account for boss@example.org" in capsys.readouterr().err
    from bot.staff.accounts import authenticate

    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    assert authenticate(engine, "boss@example.org", PASSWORD).account is not None
    assert [e.action for e in audit.recent(engine)] == ["account created"]


def test_times_are_shown_and_filtered_on_a_uk_clock_whatever_the_database(console):
    """SQLite hands back naive UTC; PostgreSQL (here set to New York time) aware times in its
    own zone. Both show 00:30 on 1 July for feedback given at 23:30 UTC on 30 June (BST)."""
    app, engine, _ = console
    from bot.db import session_scope
    from bot.feedback.store import FeedbackRow, NewFeedback, record_feedback
    from bot.staff.audit import AuditRow

    midsummer = datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
    late, _ = record_feedback(
        engine,
        NewFeedback("sms", "sms-late", "t-late", "sendiass", 5, "late night thanks", (), False),
    )
    with session_scope(engine) as session:
        session.execute(
            update(FeedbackRow).where(FeedbackRow.id == late).values(created_at=midsummer)
        )
        session.add(AuditRow(at=winter, actor="someone@example.org", action="login", target=""))
        session.add(AuditRow(at=midsummer, actor="someone@example.org", action="logout", target=""))
    team = client_for(app, "local_offer")
    july = team.get("/feedback?from=2026-07-01&to=2026-07-01").text
    assert "late night thanks" in july and "01 Jul 2026, 00:30" in july
    assert "2026-07: average 5.0 from 1" in july  # the chart's month is the UK month
    june = team.get("/feedback?from=2026-06-01&to=2026-06-30").text
    assert "late night thanks" not in june and "No feedback in this period." in june
    rows = list(csv.reader(io.StringIO(team.get("/feedback/export.csv?from=2026-07-01").text)))
    assert [r[1:3] for r in rows[1:] if r[6] == "late night thanks"] == [
        ["2026-07-01 00:30", "sms"]
    ]
    audit_page = client_for(app, "admin").get("/audit").text
    assert "15 Jan 2026, 12:00" in audit_page  # GMT
    assert "01 Jul 2026, 00:30" in audit_page  # BST
