"""Call-back requests and phone messages as cases: once each, consent kept, number erasable."""

from __future__ import annotations

from sqlalchemy import select

from bot.contacts import remember_contact
from bot.db import session_scope
from bot.notify.outbox import OutboxRow
from bot.privacy import erase_person
from bot.routing.callbacks import (
    CallBackRow,
    add_call_back,
    call_back_number,
    phone_message,
    phone_message_service,
    request_call_back,
    wants_call_back,
)
from bot.routing.cases import CaseRow
from bot.routing.my_cases import my_cases_text, open_cases_for
from bot.routing.rules import Decision, load_routing

URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE" + "c" * 32


def test_a_phone_message_is_one_case_however_often_twilio_reports_it(engine):
    routing = load_routing()
    first = phone_message(engine, routing, "lsat", URL, "RE" + "c" * 32, "voice")
    again = phone_message(engine, routing, "lsat", URL, "RE" + "c" * 32, "voice")
    assert first.reference == again.reference
    assert (first.service_key, first.category, first.sender) == ("lsat", "phone_message", None)
    assert URL in first.summary and first.status == "new"  # "sent" once the notice is delivered
    assert not wants_call_back(engine, first.reference)
    remember_contact(engine, "voice", "voice-abc", "+447700900321")
    with_consent = add_call_back(engine, routing, first.reference, "voice-abc", "voice")
    add_call_back(engine, routing, first.reference, "voice-abc", "voice")  # pressed twice
    assert with_consent.sender == "voice-abc" and wants_call_back(engine, first.reference)
    assert call_back_number(engine, first.reference) == "+447700900321"
    with session_scope(engine) as session:
        bodies = [r.body for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]
    assert [b.splitlines()[0] for b in bodies] == [
        f"New case {first.reference} (normal) from the SEND Local Offer assistant.",
        f"Case {first.reference}: the family asked for a call back.",
    ]
    assert "+447700900321" not in "".join(bodies)  # the number never goes by email


def test_a_call_back_request_is_routed_to_its_service_and_erased_with_the_person(engine):
    routing = load_routing()
    remember_contact(engine, "sms", "sms-xyz", "+447700900654")
    case = request_call_back(
        engine, routing, Decision("local_offer", "call_back", "normal", "call back"),
        "Please ring this family back.", channel="sms", sender="sms-xyz", turn_id="m1",
    )  # fmt: skip
    with session_scope(engine) as session:
        row = session.scalars(select(CaseRow).where(CaseRow.reference == case.reference)).one()
        assert (row.consent, row.sender, row.category) == (True, "sms-xyz", "call_back")
    assert call_back_number(engine, case.reference) == "+447700900654"
    assert [c.reference for c in open_cases_for(engine, "sms-xyz")] == [case.reference]
    assert my_cases_text(open_cases_for(engine, "sms-xyz"), str).startswith(
        f"You have 1 open case:\n{case.reference}, sent to local_offer on "
    )
    removed = erase_person(engine, "sms-xyz")
    assert removed["call-back requests"] == 1
    assert call_back_number(engine, case.reference) is None
    with session_scope(engine) as session:
        assert session.scalars(select(CallBackRow)).all() == []


def test_a_phone_message_goes_to_the_service_just_heard_about_if_it_takes_cases():
    routing = load_routing()
    assert phone_message_service(routing, ["lsat", "senco"]) == "lsat"
    assert phone_message_service(routing, ["senco"]) == "local_offer"  # a role: no inbox
    assert phone_message_service(routing, None) == "local_offer"
