"""Whole conversations, kept as data in ``tests/conversations/*.yml``, run end to end over
the real webhooks: signed Twilio requests for SMS and the phone line, real Telegram update
JSON, and Rasa's REST channel for the web chat, against both real servers and the trained
model, with fake Twilio and Telegram APIs on loopback.

A conversation file says the channel, each turn (what is typed, said or pressed) with what
must (``expect``, ``expect_re``) and must not (``expect_not``) be in the reply, and what
must be stored (``stored``): the rows each table gained during the conversation, compared
on the columns given (a number instead of a list counts the rows).

How a reply is collected is each channel's business, in one place (``Channel`` and its
subclasses): inline TwiML, or later through the outbox to the fake Twilio; Telegram
through the fake Bot API. So the conversations stay the same if the plumbing changes.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bot.speech.text import speech_segments
from scripts import servers
from scripts.sms_try import signed_post, sms_texts
from tests.conftest import free_port
from tests.fakes.env import fakes_env
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

pytestmark = pytest.mark.e2e

CONVERSATIONS = Path(__file__).resolve().parent / "conversations"
TOKEN, PUBLIC_URL, KEY = "test-auth-token", "https://send-assistant.example.org", "test-key"
BOT_TOKEN, SECRET = "123:ABC", "s3cret"
NOW = "2026-12-29T10:00:00+00:00"  # a Tuesday morning in term-time holidays, not a bank holiday
TABLES = ("feedback", "cases", "call_backs", "outbox", "safety_flags")
QUIET = 1.5  # seconds without a new message before a Telegram reply counts as complete
numbers = itertools.count(100)


def load_conversations() -> list[dict[str, Any]]:
    found = []
    for path in sorted(CONVERSATIONS.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["id"] = path.stem
        found.append(data)
    return found


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeTwilio, FakeTelegram]]:
    with FakeTwilio() as twilio, FakeTelegram(BOT_TOKEN) as telegram:
        yield twilio, telegram


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, fakes) -> Iterator[servers.Assistant]:
    twilio, telegram = fakes
    env = fakes_env(
        twilio, telegram, auth_token=TOKEN, pseudonym_key=KEY, telegram_secret=SECRET,
        SPEECH_ENGINES="none",  # the phone line reads with Twilio's <Say>: words to check
        ASSISTANT_NOW=NOW,
    )  # fmt: skip
    with servers.running(
        rasa_port=free_port(),
        actions_port=free_port(),
        workdir=tmp_path_factory.mktemp("conversations"),
        env=env,
        quiet=True,
    ) as running:
        yield running


# --- one way to send and collect a reply per channel ----------------------------------


class Channel:
    """A person on one channel: ``send`` what they type or say, ``press`` a button or key;
    each returns the whole reply as one text."""

    def __init__(self, assistant: servers.Assistant, fakes: tuple[FakeTwilio, FakeTelegram]):
        self.assistant, (self.twilio, self.telegram) = assistant, fakes

    def send(self, text: str) -> str:
        raise NotImplementedError

    def press(self, label: str) -> str:
        raise NotImplementedError

    def start(self) -> str:
        return ""


class Sms(Channel):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.phone = f"+447700900{next(numbers):03d}"

    def send(self, text: str) -> str:
        before = len(self._later())
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "1" * 32,
            "From": self.phone, "To": "+447700900000", "Body": text,
        }  # fmt: skip
        status, twiml = signed_post(self.assistant.base_url, PUBLIC_URL, TOKEN, params)
        assert status == 200, twiml
        inline = [t for t in sms_texts(twiml) if t]
        if inline:
            return "\n".join(inline)
        deadline = time.monotonic() + 20  # a slow turn's reply comes through the outbox
        while len(self._later()) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        return "\n".join(m["Body"] for m in self._later()[before:])

    def _later(self) -> list[dict[str, str]]:
        return [m for m in self.twilio.sent if m.get("To") == self.phone]

    def press(self, label: str) -> str:
        return self.send(label)  # on SMS a menu is answered by typing its number


class Telegram(Channel):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.chat = 910000 + next(numbers)
        self.buttons: list[tuple[str, str]] = []

    def _post(self, update: dict[str, Any]) -> str:
        before = len(self.telegram.sent_to(self.chat))
        response = httpx.post(
            f"{self.assistant.base_url}/webhooks/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        self.telegram.wait_for(lambda: len(self.telegram.sent_to(self.chat)) > before, 30)
        seen, since = -1, time.monotonic()
        while time.monotonic() - since < QUIET:
            now = len(self.telegram.sent_to(self.chat))
            if now != seen:
                seen, since = now, time.monotonic()
            time.sleep(0.1)
        new = self.telegram.sent_to(self.chat)[before:]
        buttons = [b for call in new for b in call.buttons]
        self.buttons = buttons or self.buttons
        return "\n".join(call.text for call in new)

    def send(self, text: str) -> str:
        update_id = next(numbers) * 1000 + 7
        message = {
            "message_id": update_id, "date": int(time.time()),
            "chat": {"id": self.chat, "type": "private", "first_name": "Sam"},
            "from": {"id": self.chat, "is_bot": False, "first_name": "Sam"}, "text": text,
        }  # fmt: skip
        return self._post({"update_id": update_id, "message": message})

    def press(self, label: str) -> str:
        data = next((d for title, d in self.buttons if title == label), None)
        assert data is not None, f"no button {label!r} in {self.buttons}"
        update_id = next(numbers) * 1000 + 8
        query = {
            "id": f"q{update_id}", "chat_instance": "1", "data": data,
            "from": {"id": self.chat, "is_bot": False, "first_name": "Sam"},
            "message": {"message_id": 1, "date": int(time.time()), "text": "...",
                        "chat": {"id": self.chat, "type": "private"}},
        }  # fmt: skip
        return self._post({"update_id": update_id, "callback_query": query})


class Voice(Channel):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.caller = f"+447700900{next(numbers):03d}"
        self.sid = "CA" + uuid.uuid4().hex
        self.root: ET.Element | None = None

    def _post(self, path: str, **extra: str) -> str:
        params = {
            "CallSid": self.sid, "AccountSid": "AC" + "1" * 32, "From": self.caller,
            "To": "+447700900000", "CallStatus": "in-progress", "Direction": "inbound", **extra,
        }  # fmt: skip
        status, body = signed_post(self.assistant.base_url, PUBLIC_URL, TOKEN, params, path)
        assert status == 200, body
        self.root = ET.fromstring(body)  # noqa: S314 (our own server's TwiML)
        return self.heard()

    def heard(self) -> str:
        """What the caller hears, in order, as pieces of speech."""
        assert self.root is not None
        pieces: list[str] = []
        for element in self.root.iter():
            if element.tag == "Say":
                pieces += speech_segments(element.text or "")
            elif element.tag == "Play":
                key = Path(element.text or "").stem
                with sqlite3.connect(self.assistant.workdir / "app.db") as db:
                    (text,) = db.execute(
                        "select text from speech_audio where key = ?", (key,)
                    ).fetchone()
                pieces.append(text)
        return "\n".join(pieces)

    def _next(self) -> str:
        """Where the call's next answer goes: a <Record> first (its <Gather> after it only
        hears a caller who left no message), else the <Gather>."""
        assert self.root is not None
        waiting = self.root.find("./Record")
        waiting = waiting if waiting is not None else self.root.find("./Gather")
        assert waiting is not None, "the call is not waiting for anything"
        return str(waiting.get("action")).removeprefix(PUBLIC_URL)

    def start(self) -> str:
        return self._post("/webhooks/voice/webhook")

    def send(self, text: str) -> str:
        return self._post(self._next(), SpeechResult=text, Confidence="0.9")

    def press(self, label: str) -> str:
        return self._post(self._next(), Digits=label)

    def record(self, recording_sid: str) -> str:
        """Leave a spoken message (the <Record> posts the recording's link when done)."""
        url = f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{recording_sid}"
        return self._post(self._next(), RecordingUrl=url, RecordingSid=recording_sid,
                          RecordingDuration="12", Digits="#")  # fmt: skip


class WebChat(Channel):
    """A browser on the web chat page: the server names the conversation (its cookie)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.client = httpx.Client(base_url=self.assistant.base_url, timeout=60)
        page = self.client.get("/webhooks/webchat/")
        assert page.status_code == 200
        # PUBLIC_URL is https here, so the cookie is Secure: sent back by hand over loopback
        # http, as a browser on the https address would send it.
        self.cookie = page.headers["set-cookie"].split(";")[0]
        self.buttons: list[dict[str, str]] = []

    def send(self, text: str) -> str:
        reply = self.client.post(
            "/webhooks/webchat/message", json={"message": text}, headers={"Cookie": self.cookie}
        )
        assert reply.status_code == 200, reply.text
        messages = reply.json()
        buttons = [b for m in messages for b in m.get("buttons") or []]
        self.buttons = buttons or self.buttons
        return "\n".join(str(m.get("text") or "") for m in messages)

    def press(self, label: str) -> str:
        payload = next((b["payload"] for b in self.buttons if b["title"] == label), None)
        assert payload is not None, f"no button {label!r} in {self.buttons}"
        return self.send(payload)


CHANNELS: dict[str, type[Channel]] = {
    "sms": Sms, "telegram": Telegram, "voice": Voice, "webchat": WebChat,
}  # fmt: skip


# --- what was stored --------------------------------------------------------------------


def _last_ids(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        return {t: connection.execute(f"select coalesce(max(id), 0) from {t}").fetchone()[0]  # noqa: S608
                for t in TABLES}  # fmt: skip


# "service_messages": outbox rows to services (email, webhook, log), whatever way the
# channels send their own replies (inline or through the outbox).
VIEWS = {"service_messages": ("outbox", "channel in ('email', 'webhook', 'log')")}


def _new_rows(db: Path, table: str, since: int, columns: list[str]) -> list[dict[str, Any]]:
    source, where = VIEWS.get(table, (table, "1 = 1"))
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        query = f"select * from {source} where id > ? and {where} order by id"  # noqa: S608
        rows = connection.execute(query, (since,)).fetchall()
    return [{c: row[c] for c in columns} for row in rows]


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, bool):
        return bool(got) == expected
    if isinstance(expected, str) and expected.startswith("~"):
        return got is not None and re.search(expected[1:], str(got)) is not None
    return expected == got


def check_stored(db: Path, before: dict[str, int], stored: dict[str, Any]) -> None:
    for table, expected in stored.items():
        since = before[VIEWS.get(table, (table,))[0]]
        if isinstance(expected, int):
            assert len(_new_rows(db, table, since, ["id"])) == expected, table
            continue
        columns = sorted({c for row in expected for c in row})
        got = _new_rows(db, table, since, columns)
        assert len(got) == len(expected), f"{table}: {got}"
        for want, have in zip(expected, got, strict=True):
            assert all(_same(want[c], have[c]) for c in want), f"{table}: {want} != {have}"


# --- the conversations ------------------------------------------------------------------


def wait_for_service_messages(db: Path, since: int, timeout: float = 60.0) -> None:
    """Wait until the outbox worker has delivered this conversation's messages to services
    (those queued after outbox row ``since``)."""
    where = f"id > {int(since)} and {VIEWS['service_messages'][1]}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as connection:
            waiting = connection.execute(
                f"select count(*) from outbox where {where} and status in ('pending', 'sending')"  # noqa: S608
            ).fetchone()[0]
        if not waiting:
            return
        time.sleep(0.2)
    raise AssertionError(f"{waiting} message(s) to services still not delivered")


@pytest.mark.parametrize("conversation", load_conversations(), ids=lambda c: c["id"])
def test_conversation(assistant, fakes, conversation):
    person = CHANNELS[conversation["channel"]](assistant, fakes)
    db = assistant.workdir / "app.db"
    before = _last_ids(db)
    if conversation["channel"] == "voice":
        person.start()
    for number, turn in enumerate(conversation["turns"], start=1):
        if turn.get("after_delivery"):  # the promise kept first: the service has the case
            wait_for_service_messages(db, before["outbox"])
        if "send" in turn:
            reply = person.send(str(turn["send"]))
        elif "press" in turn:
            reply = person.press(str(turn["press"]))
        else:
            assert isinstance(person, Voice)
            reply = person.record(str(turn["record"]))
        where = f"turn {number} ({turn}) got:\n{reply}"
        for wanted in turn.get("expect") or []:
            assert wanted in reply, where
        for pattern in turn.get("expect_re") or []:
            assert re.search(pattern, reply), where
        for unwanted in turn.get("expect_not") or []:
            assert unwanted not in reply, where
    check_stored(db, before, conversation.get("stored") or {})


def test_there_are_at_least_40_conversations_on_every_channel():
    conversations = load_conversations()
    assert len(conversations) >= 40
    assert {c["channel"] for c in conversations} == set(CHANNELS)
