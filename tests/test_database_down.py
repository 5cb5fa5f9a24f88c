"""The database goes down: nobody is left in silence, and nothing is answered twice.

The SQLite file behind the channels is broken for real (its bytes replaced, so every
connection fails with "file is not a database") and mended again; the channels are the
real Sanic app, twilio library and python-telegram-bot against a fake Bot API, with a stub
turn in place of Rasa (as in ``test_channel_pipeline``)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.db import session_scope, shared_engine
from bot.safety import EMERGENCY_LINE
from bot.safety_log import SafetyFlagRow
from tests.channel_helpers import StubTurn, client_for, settle
from tests.conftest import free_port
from tests.test_channel_pipeline import (
    CRISIS,
    SECRET,
    TELEGRAM_PATH,
    TELEGRAM_TOKEN,
    Phone,
    chat_message,
    connector,
    statuses,
    telegram_connector,
)

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
QUESTION = "who helps with transport"


@pytest.fixture
def fake_telegram():
    from tests.fakes.telegram_api import FakeTelegram

    with FakeTelegram(TELEGRAM_TOKEN) as running:
        yield running


class Database:
    """The SQLite file behind ``engine`` (and the channels' shared engine for the same
    URL): ``down`` replaces its bytes with junk, ``up`` puts them back."""

    def __init__(self, engine: Engine) -> None:
        self.engines = (engine, shared_engine(str(engine.url)))
        self.path = Path(str(engine.url.database))
        self.saved = b""

    def _close(self) -> None:
        for engine in self.engines:
            engine.dispose()  # the last connection closed: the write-ahead log is folded in
        for extra in ("-wal", "-shm"):
            Path(f"{self.path}{extra}").unlink(missing_ok=True)

    def down(self) -> None:
        self._close()
        self.saved = self.path.read_bytes()
        self.path.write_bytes(b"this is not a database " * 400)

    def up(self) -> None:
        self._close()
        self.path.write_bytes(self.saved)


def flags(engine: Engine) -> list[tuple[str, str | None]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(SafetyFlagRow).order_by(SafetyFlagRow.id)).all()
        return [(row.channel, row.category) for row in rows]


def test_sms_with_the_database_down_a_crisis_gets_the_emergency_reply_and_a_question_an_apology(
    engine, caplog
):
    database = Database(engine)

    async def go():
        made, turn = connector(engine), StubTurn()
        async with client_for(made, turn) as client:
            phone = Phone(client, "sms")
            database.down()
            crisis = await phone.send(CRISIS)
            question = await phone.send(QUESTION)
            database.up()
            await settle(made.pipeline)
        return made, turn, crisis, question

    with caplog.at_level(logging.INFO):
        made, turn, crisis, question = asyncio.run(go())
    (text,) = crisis
    assert EMERGENCY_LINE in text and "Childline" in text
    assert question == [made.apology_text]
    assert turn.seen == []  # no turn without a stored message
    assert statuses(engine) == []  # nothing could be stored, and the log says so
    assert "the database is unavailable; answering without storing" in caplog.text
    assert "physical_abuse crisis on sms answered by the channel" in caplog.text
    assert CRISIS not in caplog.text and QUESTION not in caplog.text


def test_sms_with_postgresql_unreachable_since_the_start_a_crisis_still_gets_help(engine, caplog):
    """The server started while PostgreSQL was down (nothing listens on its port): there
    is no engine at all, and still a crisis gets the national numbers, a question the
    apology."""
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/test"

    async def go():
        made, turn = connector(engine, database_url=url), StubTurn()
        async with client_for(made, turn) as client:
            phone = Phone(client, "sms")
            return made, turn, await phone.send(CRISIS), await phone.send(QUESTION)

    with caplog.at_level(logging.INFO):
        made, turn, crisis, question = asyncio.run(go())
    (text,) = crisis
    assert EMERGENCY_LINE in text and "Childline" in text and "Family Connect" not in text
    assert question == [made.apology_text] and turn.seen == []
    assert "physical_abuse crisis on sms answered by the channel; no flag" in caplog.text
    assert CRISIS not in caplog.text and QUESTION not in caplog.text


def test_telegram_with_the_database_down_a_crisis_is_helped_at_once_and_once(engine, fake_telegram):
    """The webhook asks Telegram to send the update again (500) until it can be stored;
    a crisis gets the emergency reply at the first try, and not again when the update is
    stored and answered after the database is back. The flag for staff is made then."""
    database = Database(engine)
    crisis, question = chat_message(601, CRISIS), chat_message(601, QUESTION)

    async def go():
        made = telegram_connector(engine, fake_telegram)
        turn = StubTurn({CRISIS: "fail"})  # the action server is down too
        codes = []
        async with client_for(made, turn) as client:
            database.down()
            for update_json in (crisis, crisis, question):
                answer = await client.post(TELEGRAM_PATH, json=update_json, headers=HEADERS)
                codes.append(answer.status_code)
            sent_while_down = [c.text for c in fake_telegram.sent_to(601)]
            database.up()
            for update_json in (crisis, question):  # Telegram's retries
                answer = await client.post(TELEGRAM_PATH, json=update_json, headers=HEADERS)
                codes.append(answer.status_code)
                await settle(made.pipeline)
            await made.sender.bot.request.shutdown()
        return codes, sent_while_down, turn

    codes, sent_while_down, turn = asyncio.run(go())
    assert codes == [500, 500, 500, 200, 200]
    (help_text,) = sent_while_down  # once, however often the update came
    assert EMERGENCY_LINE in help_text
    sent = [c.text for c in fake_telegram.sent_to(601)]
    assert sent == [help_text, f"You said: {QUESTION}"]  # the emergency reply not twice
    assert turn.texts[-1] == QUESTION and CRISIS in turn.texts  # both stored and taken up
    assert statuses(engine) == ["failed_crisis", "replied"]
    assert flags(engine) == [("telegram", "physical_abuse")]


class BreaksTheDatabase(StubTurn):
    """A turn that answers "hello" and takes the database down while it does, once the
    messages after it are stored."""

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.database = database
        self.stored = asyncio.Event()

    async def __call__(self, message: UserMessage) -> None:
        if message.text == "hello":
            await self.stored.wait()
            self.database.down()
        await super().__call__(message)


def test_telegram_the_database_going_down_mid_turn_leaves_nobody_in_silence(engine, fake_telegram):
    """Three messages stored; the database goes down while the first is answered. The
    second gets the apology, the third (a crisis) the emergency reply, from the channel.
    When the database is back, the outcomes are stored and nothing is answered again."""
    database = Database(engine)

    async def go() -> tuple[list[Any], list[str]]:
        made = telegram_connector(engine, fake_telegram)
        turn = BreaksTheDatabase(database)
        async with client_for(made, turn) as client:
            for text in ("hello", QUESTION, CRISIS):
                await client.post(TELEGRAM_PATH, json=chat_message(602, text), headers=HEADERS)
            turn.stored.set()
            await settle(made.pipeline)
            database.up()
            made.pipeline.recover_after = made.pipeline.recover_after * 0  # take up all
            again = await made.pipeline.recover(made, turn)
            await made.sender.bot.request.shutdown()
        return again, turn.texts

    again, texts = asyncio.run(go())
    from channels.telegram import SORRY_TEXT

    sent = [c.text for c in fake_telegram.sent_to(602)]
    assert sent[:2] == ["You said: hello", SORRY_TEXT] and len(sent) == 3
    assert EMERGENCY_LINE in sent[2]
    assert texts == ["hello"]  # the others never reached a turn
    assert again == []  # answered while the database was down: not again after
    assert statuses(engine) == ["replied", "apologised", "failed_crisis"]


def test_a_failed_statement_never_carries_the_words_it_was_writing(engine):
    """Errors are logged with their tracebacks; the values a statement wrote (a family's
    words, a phone number) are not in them."""
    from sqlalchemy.exc import IntegrityError

    from bot.contacts import InboundRow

    words = "my phone is 07700 900123 and my son is not safe"
    row = {"channel": "sms", "external_id": "SM1", "sender": "pseudonym", "text": words}
    with session_scope(engine) as session:
        session.add(InboundRow(**row))
    with pytest.raises(IntegrityError) as failed, session_scope(engine) as session:
        session.add(InboundRow(**row))  # the same message id again
    assert "UNIQUE constraint failed" in str(failed.value)
    assert words not in str(failed.value) and "pseudonym" not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)
