"""Shared set-up for the staff console tests: accounts for every role, a case raised by
SMS, feedback, a safety flag with its conversation in a real Rasa tracker store."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.contacts import remember_contact
from bot.feedback.store import NewFeedback, record_feedback
from bot.routing.cases import Case, create_case
from bot.routing.rules import Decision, Routing
from bot.safety_log import flag_conversation
from bot.staff.accounts import ADMIN, LOCAL_OFFER, SAFEGUARDING, SERVICE, create_account
from tests.databases import current_schema

PASSWORD = "a long test password"
ACCOUNTS = {
    "admin": ("admin@example.org", ADMIN, None),
    "local_offer": ("local.offer@example.org", LOCAL_OFFER, None),
    "safeguarding": ("safeguarding@example.org", SAFEGUARDING, None),
    "travel": ("travel@example.org", SERVICE, "travel_assistance"),
    "send_team": ("send.team@example.org", SERVICE, "send_team"),
}
FAMILY_PHONE = "+447700900111"
FAMILY_SENDER = "sms-0123456789abcdef"
FLAGGED_SENDER = "telegram-feedfacecafe"


@dataclass
class Seeded:
    taxi: Case  # travel_assistance, raised by SMS with consent
    ehcp: Case  # send_team, raised on the web chat
    flag_id: int


def make_accounts(engine: Engine) -> None:
    for email, role, service in ACCOUNTS.values():
        create_account(engine, email, PASSWORD, role, service)


def seed(engine: Engine, routing: Routing, tracker: Engine | None = None) -> Seeded:
    """Two cases, three pieces of feedback and one safety flag."""
    remember_contact(engine, "sms", FAMILY_SENDER, FAMILY_PHONE)
    taxi = create_case(
        engine,
        routing,
        Decision("travel_assistance", "transport", "normal", "rule"),
        "the school taxi didnt turn up again",
        "sms",
        FAMILY_SENDER,
        True,
        "turn-1",
    )
    ehcp = create_case(
        engine,
        routing,
        Decision("send_team", "ehcp", "normal", "rule"),
        "we have waited 30 weeks for the EHCP",
        "webchat",
        "webchat-abc",
        False,
        "turn-2",
    )
    for n, (service, rating, text, channel, consent) in enumerate(
        [
            (
                "travel_assistance",
                2,
                '=HYPERLINK("http://evil.example.org") taxi late',
                "sms",
                True,
            ),
            ("travel_assistance", 4, "the new driver is kind", "telegram", False),
            ("send_team", 1, "nobody answers the phone", "webchat", True),
        ]
    ):
        record_feedback(
            engine,
            NewFeedback(
                channel,
                f"{channel}-feedback-{n}",
                f"t{n}",
                service,
                rating,
                text,
                ("transport",) if service == "travel_assistance" else (),
                consent,
            ),
        )
    if tracker is not None:
        write_conversation(tracker, FLAGGED_SENDER)
    flag_id = flag_conversation(engine, FLAGGED_SENDER, "telegram", ("self_harm",))
    return Seeded(taxi, ehcp, flag_id)


def write_conversation(tracker: Engine, sender: str) -> None:
    """Save a conversation with Rasa's own SQL tracker store (what the server writes), in
    the database (and, on PostgreSQL, the schema) that ``tracker`` reads."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    url = tracker.url
    if url.get_backend_name() == "sqlite":
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(url.database))
    else:
        schema = current_schema(tracker)
        store = SQLTrackerStore(
            Domain.empty(),
            dialect="postgresql",
            host=url.host,
            port=url.port,
            db=str(url.database),
            username=url.username,
            password=url.password,
            query={"options": f"-csearch_path={schema}"} if schema else None,
        )
    conversation = DialogueStateTracker.from_events(
        sender,
        [
            UserUttered("I don't feel safe at home tonight", timestamp=1_790_000_000),
            BotUttered("If you are in danger now, call 999.", timestamp=1_790_000_001),
        ],
    )
    asyncio.run(store.save(conversation))
    store.engine.dispose()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)
