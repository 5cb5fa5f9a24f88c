"""Shared pieces of the safeguarding end-to-end tests: one assistant with SMS, Telegram and
the phone line configured against local fakes, and a way to talk to it on each channel."""

from __future__ import annotations

import itertools
import sqlite3
import time
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.privacy import pseudonymise
from scripts import servers
from scripts.sms_try import signed_post, sms_texts
from tests.conftest import free_port
from tests.fakes.env import fakes_env
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

TOKEN, PUBLIC_URL, KEY = "test-auth-token", "https://send-assistant.example.org", "test-key"
TG_TOKEN, TG_SECRET = "123:ABC", "s3cret"
TWILIO_LIMIT, TELEGRAM_ACK_LIMIT = 15.0, 10.0  # seconds each service waits for an answer
_ids = itertools.count(9000)


@contextmanager
def assistant_with_channels(workdir: Path):
    with FakeTwilio() as twilio, FakeTelegram(TG_TOKEN) as telegram:
        env = fakes_env(
            twilio, telegram, auth_token=TOKEN, pseudonym_key=KEY, telegram_secret=TG_SECRET,
            SPEECH_ENGINES="none",  # the phone line reads with Twilio's <Say>
            AUDIO_DIR=str(workdir / "audio"),
            SAFEGUARDING_CONTACT="safeguarding@example.org",
        )  # fmt: skip
        with servers.running(
            rasa_port=free_port(), actions_port=free_port(), workdir=workdir, env=env, quiet=True
        ) as assistant:
            yield assistant, telegram


def sms(assistant, body: str, phone: str) -> tuple[list[str], float]:
    """Text ``body`` from ``phone``; the TwiML reply's messages and how long it took."""
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "1" * 32,
        "From": phone, "To": "+447700900000", "Body": body,
    }  # fmt: skip
    started = time.monotonic()
    status, twiml = signed_post(assistant.base_url, PUBLIC_URL, TOKEN, params)
    assert status == 200, twiml
    return sms_texts(twiml), time.monotonic() - started


def telegram(assistant, fake: FakeTelegram, chat_id: int, text: str) -> list[str]:
    """Send ``text`` as a Telegram update; the texts the bot sent back for it."""
    before = len(fake.sent_to(chat_id))
    update_id = next(_ids)
    body = {
        "message_id": update_id, "date": int(time.time()), "text": text,
        "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Sam"},
    }  # fmt: skip
    started = time.monotonic()
    answer = httpx.post(
        f"{assistant.base_url}/webhooks/telegram/webhook",
        json={"update_id": update_id, "message": body},
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
        timeout=TELEGRAM_ACK_LIMIT,
    )
    assert answer.status_code == 200 and time.monotonic() - started < TELEGRAM_ACK_LIMIT
    fake.wait_for(lambda: len(fake.sent_to(chat_id)) > before, 30)
    time.sleep(1.0)  # a turn can send more than one message
    return [str(c.params.get("text")) for c in fake.sent_to(chat_id)[before:]]


def call_and_say(assistant, words: str, caller: str) -> tuple[list[str], float]:
    """Ring the phone line, say ``words``; what the caller hears and how long it took."""
    sid = "CA" + uuid.uuid4().hex
    params: dict[str, Any] = {
        "CallSid": sid, "AccountSid": "AC" + "1" * 32, "From": caller, "To": "+447700900000",
        "CallStatus": "in-progress", "Direction": "inbound",
    }  # fmt: skip
    status, body = signed_post(
        assistant.base_url, PUBLIC_URL, TOKEN, params, "/webhooks/voice/webhook"
    )
    assert status == 200, body
    action = ET.fromstring(body).find("./Gather").get("action")  # noqa: S314
    started = time.monotonic()
    status, body = signed_post(
        assistant.base_url, PUBLIC_URL, TOKEN, {**params, "SpeechResult": words},
        action.removeprefix(PUBLIC_URL),
    )  # fmt: skip
    assert status == 200, body
    said = [e.text or "" for e in ET.fromstring(body).iter("Say")]  # noqa: S314
    return said, time.monotonic() - started


def flag_categories(assistant, channel: str, sender: str) -> list[str]:
    with sqlite3.connect(assistant.workdir / "app.db") as db:
        rows = db.execute(
            "select category from safety_flags where channel = ? and conversation_id = ?",
            (channel, sender),
        ).fetchall()
    return [row[0] for row in rows]


def sender(channel: str, address: str) -> str:
    return pseudonymise(KEY, channel, address)
