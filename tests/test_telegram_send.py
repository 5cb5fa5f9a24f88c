"""The Telegram sender's spacing, against the fake Bot API on loopback through a real
python-telegram-bot ``Bot``: one chat's messages are spaced out, and a chat waiting
between its own messages never holds up another chat's first reply."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot

from channels.telegram_send import TelegramSender
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123:ABC"  # noqa: S105 (the fake's token)


@pytest.fixture
def fake():
    with FakeTelegram(TOKEN) as fake:
        yield fake


async def _send_all(fake: FakeTelegram, engine) -> None:  # type: ignore[no-untyped-def]
    bot = Bot(TOKEN, base_url=fake.base_url)
    async with bot:
        sender = TelegramSender(bot, engine, "test-key")
        first_chat = asyncio.gather(
            sender.deliver(700201, "one"), sender.deliver(700201, "two")
        )  # the second waits out the chat's spacing
        await asyncio.sleep(0.05)  # then another person's first reply is ready
        await sender.deliver(700202, "hello")
        await first_chat


def test_another_chats_first_reply_does_not_wait_behind_a_chats_spacing(fake, engine):
    asyncio.run(_send_all(fake, engine))
    one, two = fake.sent_to(700201)
    (hello,) = fake.sent_to(700202)
    assert [one.params["text"], two.params["text"], hello.params["text"]] == [
        "one", "two", "hello",
    ]  # fmt: skip
    assert two.at - one.at >= TelegramSender.per_chat_seconds - 0.02
    assert hello.at < two.at  # not queued behind the first chat's second message
    assert hello.at - one.at < 0.2
