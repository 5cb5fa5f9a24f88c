"""The thin receiver for real: the Rasa server (with the trained model, serving every
channel but SMS, WhatsApp and Telegram: credentials.production.yml), the action server,
the outbox worker and ``python -m channels.receiver`` in front, against the fake Twilio
and Telegram APIs (scripts/servers.py, ``receiver_port``).

Signed SMS and Telegram updates go to the receiver and get the real assistant's answers;
"/listen" on Telegram reads the ``read_aloud`` slot back through the turn endpoint; the
Rasa server no longer answers those webhooks itself and its turn endpoint refuses anyone
without the token; the receiver holds no TensorFlow; and with the Rasa server killed, a
question gets the apology and a crisis the emergency reply, from the receiver alone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.safety import EMERGENCY_LINE
from channels.sms import SORRY_TEXT
from channels.telegram import NO_AUDIO_TEXT
from scripts import servers
from scripts.sms_try import signed_post, sms_texts
from tests.conftest import free_port
from tests.fakes.env import fakes_env
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.safety_e2e_helpers import KEY, PUBLIC_URL, TG_SECRET, TG_TOKEN, TOKEN

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(TG_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, telegram) -> Iterator[servers.Assistant]:
    workdir = tmp_path_factory.mktemp("receiver")
    with FakeTwilio() as twilio:
        env = fakes_env(
            twilio, telegram, auth_token=TOKEN, pseudonym_key=KEY, telegram_secret=TG_SECRET,
            SPEECH_ENGINES="none", AUDIO_DIR=str(workdir / "audio"),
            SAFEGUARDING_CONTACT="safeguarding@example.org",
        )  # fmt: skip
        with servers.running(
            rasa_port=free_port(), actions_port=free_port(), workdir=workdir, env=env,
            quiet=True, receiver_port=free_port(),
        ) as running:  # fmt: skip
            yield running


def text(assistant: servers.Assistant, body: str, phone: str, base: str | None = None):
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "1" * 32, "From": phone,
        "To": "+447700900000", "Body": body, "NumMedia": "0",
    }  # fmt: skip
    return signed_post(base or assistant.channels_url, PUBLIC_URL, TOKEN, params)


def update(assistant: servers.Assistant, chat: int, words: str) -> int:
    body = {
        "update_id": int(time.time() * 1000) % 1_000_000_000,
        "message": {
            "message_id": 1, "date": int(time.time()), "text": words,
            "chat": {"id": chat, "type": "private", "first_name": "Sam"},
            "from": {"id": chat, "is_bot": False, "first_name": "Sam"},
        },
    }  # fmt: skip
    reply = httpx.post(
        f"{assistant.channels_url}/webhooks/telegram/webhook", json=body, timeout=30,
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
    )  # fmt: skip
    return reply.status_code


def settle(fake: FakeTelegram, chat: int, quiet: float = 2.0) -> list[str]:
    """Every text sent to ``chat`` once nothing more has come for ``quiet`` seconds."""
    deadline, seen, since = time.monotonic() + 60, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(fake.sent_to(chat))
        if now != seen:
            seen, since = now, time.monotonic()
        elif now and time.monotonic() - since >= quiet:
            break
        time.sleep(0.05)
    return [call.text for call in fake.sent_to(chat)]


def is_real_answer(words: str) -> bool:
    return words.startswith(("This service can help:", "These can help:"))


def test_an_sms_through_the_receiver_gets_the_assistants_answer(assistant):
    status, twiml = text(assistant, "who helps with school transport", "+447700902001")
    assert status == 200
    (reply,) = sms_texts(twiml)
    assert reply.startswith("This service can help:\n1. SEND Travel")
    status, twiml = text(assistant, "menu", "+447700902001")
    assert status == 200 and sms_texts(twiml) and sms_texts(twiml)[0] != reply


def test_telegram_through_the_receiver_and_read_aloud_from_the_tracker(assistant, telegram):
    chat = 720001
    assert update(assistant, chat, "who can help with school transport") == 200
    first = settle(telegram, chat)  # the answer, then whether it helped
    answer = first[0]
    assert is_real_answer(answer) and len(first) == 2
    assert update(assistant, chat, "/listen") == 200
    # Rasa set read_aloud: the receiver learns it from the turn endpoint and tries to read
    # the answer aloud (no speech engine here, so it says so).
    assert settle(telegram, chat)[2:] == [
        "OK. I will read my answers out loud as well.",
        "Here is my last answer again.",
        answer,
        NO_AUDIO_TEXT,
    ]


def test_the_rasa_server_serves_neither_the_receivers_webhooks_nor_turns_to_strangers(
    assistant,
):
    status, _ = text(assistant, "hello", "+447700902002", base=assistant.base_url)
    assert status == 404
    turn = f"{assistant.base_url}/webhooks/turn/webhook"
    body = {"sender": "sms-x", "text": "hi", "input_channel": "sms", "metadata": None}
    assert httpx.post(turn, json=body, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer guess"}
    assert httpx.post(turn, json=body, headers=wrong, timeout=10).status_code == 403
    assert httpx.get(f"{assistant.base_url}/webhooks/voice/", timeout=10).status_code == 200


def test_the_receiver_holds_no_tensorflow(assistant):
    pid = assistant.process("receiver").pid
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert "tensorflow" not in maps
    assert "tensorflow" in Path(f"/proc/{assistant.process('rasa').pid}/maps").read_text()
    rss = int(
        next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
             if line.startswith("VmRSS:")).split()[1]
    ) // 1024  # fmt: skip
    print(f"receiver resident memory: {rss} MB")
    assert rss < 700


def test_with_rasa_killed_the_receiver_apologises_and_a_crisis_gets_the_emergency_reply(
    assistant,
):
    assistant.kill("rasa")  # the last test: Rasa stays down
    started = time.monotonic()
    status, twiml = text(assistant, "I want to kill myself", "+447700902003")
    took = time.monotonic() - started
    assert status == 200 and took < 5.0
    (emergency,) = sms_texts(twiml)
    assert emergency.splitlines()[1] == EMERGENCY_LINE
    status, twiml = text(assistant, "who helps with school transport", "+447700902004")
    assert status == 200 and sms_texts(twiml) == [SORRY_TEXT]
    assert httpx.get(f"{assistant.channels_url}/health", timeout=10).status_code == 200
