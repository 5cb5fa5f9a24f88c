"""Routing rules, references, status transitions, escalation, and email to a service."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bot.contacts import remember_contact
from bot.notify.outbox import DeliveryReport, deliver_due, messages_for, utcnow
from bot.notify.senders import SmtpSender
from bot.routing.cases import (
    InvalidTransition,
    case_for_sender,
    change_status,
    create_case,
    escalate_overdue,
    get_case,
    history,
    list_cases,
    staff_update,
    status_text,
)
from bot.routing.references import ALPHABET, find_reference, new_reference
from bot.routing.rules import Decision, load_routing
from tests.conftest import free_port
from tests.fakes.smtp import Inbox

ROUTING = """
fallback_owner: local_offer
default_target_hours: 72
services:
  travel_assistance: {notify: email, address: travel@example.org, target_hours: 48}
  local_offer: {notify: email, address: local-offer@example.org, target_hours: 24}
rules:
  - category: transport
    service: travel_assistance
    phrases: [taxi, school transport, escort]
  - category: safety
    service: family_connect
    urgency: urgent
    phrases: [not safe]
"""


@pytest.fixture
def routing(tmp_path: Path):
    path = tmp_path / "routing.yml"
    path.write_text(ROUTING)
    return load_routing(path)


def test_references_are_random_readable_and_avoid_ambiguous_characters():
    references = [new_reference() for _ in range(20_000)]
    assert not set("01OIL") & set(ALPHABET)
    assert all(r.startswith("TW-") and len(r) == 9 for r in references)
    assert all(set(r[3:]) <= set(ALPHABET) for r in references)
    # 31**6 possibilities: 20,000 draws repeat about 0.23 pairs on average (Poisson), so
    # 3 or more repeats happen once in about 600 runs (seen once in a full test run), and 7
    # about once in 200 million; a generator of 4 random characters (31**4) repeats about 216.
    # Every character of the alphabet turns up in every position.
    assert len(set(references)) >= 20_000 - 6
    for position in range(3, 9):
        assert {r[position] for r in references} == set(ALPHABET)
    assert find_reference("any news on my case tw-7k3qxz please") == "TW-7K3QXZ"
    assert find_reference("no reference here") is None


def test_the_first_cases_of_two_fresh_databases_get_different_references(tmp_path, routing):
    from bot.db import make_engine, upgrade

    firsts = []
    for name in ("a", "b", "c"):
        db = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(db)
        firsts.append(_case(db, routing).reference)
        db.dispose()
    assert len(set(firsts)) == 3


def test_a_reference_already_taken_is_drawn_again(engine, routing, monkeypatch):
    import bot.routing.cases as cases

    taken = _case(engine, routing, turn="t1").reference
    draws = iter([taken, taken, "TW-23456A"])
    monkeypatch.setattr(cases, "new_reference", lambda: next(draws))
    assert _case(engine, routing, turn="t2").reference == "TW-23456A"
    assert [c.reference for c in list_cases(engine)] == [taken, "TW-23456A"]


def test_rules_then_directory_then_fallback(routing, sample_directory):
    from bot.directory import Catalog

    catalog = Catalog(sample_directory)
    assert routing.decide("the TAXI was late again") == Decision(
        "travel_assistance", "transport", "normal", "rule"
    )
    assert routing.decide("i do not feel he is not safe at his dads").urgency == "urgent"
    assert routing.decide("nobody has assessed his speech", catalog).reason == "directory"
    assert routing.decide("zzzz") == Decision("local_offer", "general", "normal", "fallback")


def _case(engine, routing, consent=True, turn="t1", now=None):
    return create_case(
        engine,
        routing,
        Decision("travel_assistance", "transport", "normal", "rule"),
        "the taxi keeps turning up late",
        channel="sms",
        sender="sms-family",
        consent=consent,
        turn_id=turn,
        now=now,
    )


def test_a_case_is_created_once_and_visible_only_to_its_family(engine, routing):
    case = _case(engine, routing)
    again = _case(engine, routing)
    assert again.reference == case.reference
    assert case.status == "new"  # not "sent" until the service has it
    (email,) = messages_for(engine, "travel@example.org")
    assert email.channel == "email" and case.reference in email.body
    assert (email.kind, email.person, email.case_reference) == (
        "service", "sms-family", case.reference,
    )  # fmt: skip
    assert case_for_sender(engine, case.reference, "sms-family") == case
    assert case_for_sender(engine, case.reference, "sms-stranger") is None
    assert status_text(case) == (
        f"Your case {case.reference} has been received. We are sending it to the team."
    )


def test_a_case_is_sent_only_when_its_notification_is_delivered(engine, routing):
    from bot.notify.senders import LogSender

    case = _case(engine, routing)
    failing = {"email": SmtpSender("127.0.0.1", free_port(), "a@example.org", "SEND")}
    now = utcnow()
    assert asyncio.run(deliver_due(engine, failing, now=now)) == DeliveryReport(retrying=1)
    assert get_case(engine, case.reference).status == "new"
    assert [e.status for e in history(engine, case.reference)] == ["new"]

    later = now + timedelta(minutes=1)
    assert asyncio.run(deliver_due(engine, {"email": LogSender("email")}, now=later)) == (
        DeliveryReport(sent=1)
    )
    sent = get_case(engine, case.reference)
    assert sent.status == "sent"
    assert status_text(sent) == (
        f"Your case {case.reference} has been sent to the team. They have not picked it up yet."
    )
    events = history(engine, case.reference)
    assert [(e.status, e.by, e.note) for e in events] == [
        ("new", "family", None), ("sent", "assistant", "delivered by email"),
    ]  # fmt: skip


def test_illegal_status_changes_are_refused_clearly(engine, routing):
    case = _case(engine, routing)
    change_status(engine, case.reference, "closed", by="staff")
    with pytest.raises(InvalidTransition) as refused:
        change_status(engine, case.reference, "in_progress", by="staff")
    assert str(refused.value) == (
        f"Case {case.reference} is 'closed' and cannot become 'in_progress'. Allowed next: none."
    )


def test_staff_updates_reach_the_family_on_their_channel(engine, routing):
    case = _case(engine, routing)
    staff_update(engine, case.reference, "acknowledged", by="jo", message="We will call Monday.")
    (update,) = messages_for(engine, "sms-family")
    assert update.body == (
        f"Your case {case.reference} has been picked up by the team.\nWe will call Monday."
    )


def test_unacknowledged_cases_escalate_to_the_fallback_owner(engine, routing):
    start = utcnow()
    case = _case(engine, routing, now=start)
    assert escalate_overdue(engine, routing, now=start + timedelta(hours=47)) == []
    (escalated,) = escalate_overdue(engine, routing, now=start + timedelta(hours=49))
    assert escalated.reference == case.reference
    assert escalate_overdue(engine, routing, now=start + timedelta(hours=50)) == []
    assert case.reference in messages_for(engine, "local-offer@example.org")[0].body
    assert "passed it to the Local Offer team" in messages_for(engine, "sms-family")[0].body


def test_email_is_delivered_exactly_once_after_the_smtp_server_comes_back(
    tmp_path, engine, routing
):
    port = free_port()
    senders = {"email": SmtpSender("127.0.0.1", port, "assistant@example.org", "SEND case")}
    case = _case(engine, routing)
    start = utcnow()
    # The SMTP server is down when the case is created.
    assert asyncio.run(deliver_due(engine, senders, now=start)) == DeliveryReport(retrying=1)

    # The process restarts: a new engine on the same database file.
    from bot.db import make_engine

    engine.dispose()
    restarted = make_engine(str(engine.url))
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = start + timedelta(minutes=1)
        assert asyncio.run(deliver_due(restarted, senders, now=later)) == DeliveryReport(sent=1)
        assert asyncio.run(deliver_due(restarted, senders, now=later + timedelta(hours=2))) == (
            DeliveryReport()
        )
        deadline = time.monotonic() + 5
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    recipient, content = inbox.messages[0]
    assert recipient == "travel@example.org"
    assert case.reference in content and "the taxi keeps turning up late" in content


def test_routing_file_errors_name_the_rule(tmp_path):
    from bot.routing.rules import RoutingError

    path = tmp_path / "routing.yml"
    path.write_text("services:\n  x: {notify: pigeon}\nrules:\n  - category: a\n")
    with pytest.raises(RoutingError) as refused:
        load_routing(path)
    assert "services.x: notify must be one of email, webhook, sms, log" in str(refused.value)
    assert "rule 1: needs a service and at least one phrase" in str(refused.value)


def test_family_phone_is_not_in_the_case(engine, routing):
    remember_contact(engine, "sms", "sms-family", "+447700900123")
    case = _case(engine, routing)
    assert "+447700900123" not in messages_for(engine, "travel@example.org")[0].body
    assert case.sender == "sms-family"
