"""With the action server killed, a crisis on SMS, Telegram and the phone line still gets
the emergency reply from the channel itself, in time, and a flag for staff review."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.safety import EMERGENCY_LINE
from tests.safety_e2e_helpers import (
    TWILIO_LIMIT,
    assistant_with_channels,
    call_and_say,
    flag_categories,
    sender,
    sms,
    telegram,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[tuple]:
    with assistant_with_channels(tmp_path_factory.mktemp("safety-down")) as (assistant, fake):
        actions = assistant.processes[0]  # scripts/servers.py starts the action server first
        actions.kill()
        actions.wait(timeout=20)
        yield assistant, fake


def test_sms_gets_the_emergency_reply_and_a_flag(running):
    assistant, _ = running
    phone = "+447700900621"
    (reply,), took = sms(assistant, "I want to kill myself", phone)
    assert reply.splitlines()[1] == EMERGENCY_LINE and "116 123" in reply
    assert took < TWILIO_LIMIT
    assert flag_categories(assistant, "sms", sender("sms", phone)) == ["suicidal"]


def test_telegram_gets_the_emergency_reply_and_a_flag(running):
    assistant, fake = running
    chat = 6200621
    (reply, *_) = telegram(assistant, fake, chat, "my boyfriend choked me last night")
    assert reply.splitlines()[1] == EMERGENCY_LINE and "0808 2000 247" in reply
    assert flag_categories(assistant, "telegram", sender("telegram", str(chat))) == [
        "domestic_abuse"
    ]


def test_the_phone_line_says_the_emergency_reply_and_flags_it(running):
    assistant, _ = running
    caller = "+447700900622"
    said, took = call_and_say(assistant, "my son is not breathing", caller)
    heard = " ".join(said)  # numbers are read digit by digit on the phone
    assert "If someone is in danger right now, call 9 9 9." in heard and took < TWILIO_LIMIT
    assert "Ask for an ambulance." in heard
    assert flag_categories(assistant, "voice", sender("voice", caller)) == ["medical_emergency"]
