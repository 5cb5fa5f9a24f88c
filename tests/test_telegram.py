"""End to end over Telegram: both real servers, the trained model, real Telegram update JSON
posted to /webhooks/telegram/webhook, and a fake Bot API on loopback that records replies."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import sqlite3
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from bot.config import load_settings
from bot.db import make_engine
from bot.notify.outbox import enqueue
from bot.privacy import pseudonymise
from bot.speech.audio import audio_kind
from channels import telegram_poll
from channels.telegram import (
    FLOOD_TEXT,
    STOPPED_TEXT,
    UNREADABLE_TEXT,
    TelegramInput,
)
from channels.telegram_send import make_bot
from scripts import servers
from tests.conftest import free_port
from tests.fakes.gtts_api import FakeGoogleTTS
from tests.fakes.telegram_api import BLOCKED, SERVER_ERROR, FakeTelegram, Upload

pytestmark = pytest.mark.e2e

TOKEN, SECRET, KEY = "123:ABC", "s3cret", "test-key"
OFFER = [
    ("More options", "/more_options"),
    ("Talk to someone", "/talk_to_someone"),
    ("Give feedback", "/give_feedback"),
]
update_ids = itertools.count(5000)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleTTS]:
    with FakeGoogleTTS() as running:
        yield running


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, fake, google) -> Iterator[servers.Assistant]:
    workdir = tmp_path_factory.mktemp("telegram")
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "PSEUDONYM_KEY": KEY,
        # Spoken replies: real gTTS reaches the fake Google through the proxy it honours.
        "HTTPS_PROXY": google.proxy_url,
        "SSL_CERT_FILE": str(google.cert_file),
        "SPEECH_GTTS_PAUSE": "0",
        "AUDIO_DIR": str(workdir / "audio"),
    }
    with servers.running(
        rasa_port=free_port(), actions_port=free_port(), workdir=workdir, quiet=True, env=env
    ) as running:
        yield running


def person(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Sam"}


def message(chat_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Telegram update with a private message (text, or e.g. ``sticker=...``)."""
    update_id = next(update_ids)
    body = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
        "from": person(chat_id),
        **({"text": text} if text is not None else {}),
        **extra,
    }
    return {"update_id": update_id, "message": body}


def button_press(chat_id: int, data: str) -> dict[str, Any]:
    update_id = next(update_ids)
    shown = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private"},
        "text": "These can help:",
    }
    query = {
        "id": f"query-{update_id}",
        "from": person(chat_id),
        "chat_instance": "1",
        "data": data,
        "message": shown,
    }
    return {"update_id": update_id, "callback_query": query}


def post(assistant, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    url = f"{assistant.base_url}/webhooks/telegram/webhook"
    return httpx.post(url, json=update, headers=headers, timeout=10)


def replies(fake: FakeTelegram, chat_id: int, count: int, timeout: float = 20.0):
    """Wait for at least ``count`` messages to ``chat_id``; return all of them so far."""
    fake.wait_for(lambda: len(fake.sent_to(chat_id)) >= count, timeout)
    return fake.sent_to(chat_id)


def settle(fake: FakeTelegram, chat_id: int, quiet: float = 2.0) -> list:
    """Wait until no new message to ``chat_id`` has come for ``quiet`` seconds (at most 20 s)."""
    deadline, seen, since = time.monotonic() + 20, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(fake.calls_to("sendMessage", chat_id))
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
        time.sleep(0.1)
    return fake.sent_to(chat_id)


def rows(db, query: str, *args):
    with sqlite3.connect(db) as connection:
        return connection.execute(query, args).fetchall()


def sender_of(chat_id: int) -> str:
    return pseudonymise(KEY, "telegram", str(chat_id))


def test_a_question_is_signposted_with_an_inline_keyboard(assistant, fake):
    started = time.monotonic()
    answer = post(assistant, message(700001, "who can help with school transport"))
    assert answer.status_code == 200 and time.monotonic() - started < 2.0
    first, note = replies(fake, 700001, 2)[:2]
    assert "can help:\n1. SEND Travel Assistance: " in first.text
    assert first.buttons == OFFER
    assert note.text.startswith("We keep chats for 180 days.")
    assert "parse_mode" not in first.params  # plain text: nothing is read as markup
    assert not any("signpost" in call.text for call in fake.sent_to(700001))


def test_a_button_press_is_answered_and_routed_as_its_payload(assistant, fake):
    chat = 700002
    post(assistant, message(chat, "who can help with school transport"))
    before = len(replies(fake, chat, 2))
    press = button_press(chat, "/talk_to_someone")
    assert post(assistant, press).status_code == 200
    fake.wait_for(lambda: fake.calls_to("answerCallbackQuery"))
    answered = [c.params["callback_query_id"] for c in fake.calls_to("answerCallbackQuery")]
    assert press["callback_query"]["id"] in answered
    after = replies(fake, chat, before + 1)[before]
    assert after.text.startswith("You can talk to a person.")


def test_the_same_update_three_times_gets_one_reply(assistant, fake):
    chat = 700003
    update = message(chat, "/help")
    assert [post(assistant, update).status_code for _ in range(3)] == [200, 200, 200]
    sent = settle(fake, chat)
    assert len(sent) == 1
    assert sent[0].text.startswith("What would you like help with?")
    assert len(sent[0].buttons) == 8
    stored = rows(
        assistant.workdir / "app.db",
        "select count(*) from inbound_messages where external_id = ?",
        str(update["update_id"]),
    )
    assert stored == [(1,)]


def test_a_forged_or_missing_secret_is_refused_and_nothing_is_stored(assistant, fake):
    chat = 700004
    assert post(assistant, message(chat, "hello"), secret="guess").status_code == 403
    assert post(assistant, message(chat, "hello"), secret=None).status_code == 403
    assert settle(fake, chat, quiet=1.5) == []
    db = assistant.workdir / "app.db"
    who = sender_of(chat)
    assert rows(db, "select count(*) from inbound_messages where sender = ?", who) == [(0,)]
    assert rows(db, "select count(*) from contacts where sender = ?", who) == [(0,)]


def test_a_429_is_waited_out_then_the_message_is_sent(assistant, fake):
    chat = 700005
    fake.fail_next(1, chat_id=chat)
    post(assistant, message(chat, "/help"))
    [sent] = replies(fake, chat, 1)
    refused = [c for c in fake.calls_to("sendMessage", chat) if c.status == 429]
    assert len(refused) == 1
    assert sent.at - refused[0].at >= 0.9  # retry_after was 1 second
    assert sent.text.startswith("What would you like help with?")


def test_stop_means_no_more_messages_until_start(assistant, fake):
    chat = 700006
    post(assistant, message(chat, "/stop"))
    assert [c.text for c in replies(fake, chat, 1)] == [STOPPED_TEXT]
    post(assistant, message(chat, "/stop"))
    post(assistant, message(chat, "who can help with school transport"))
    assert len(settle(fake, chat)) == 1  # confirmed once, then silence
    assert rows(
        assistant.workdir / "app.db",
        "select reason from opt_outs where sender = ?",
        sender_of(chat),
    ) == [("stop command",)]
    post(assistant, message(chat, "/start"))
    welcome = settle(fake, chat)[1:]
    assert welcome[0].text.startswith("Hello. I help children and young people with special")
    assert welcome[1].text.startswith("We keep chats for 180 days.")


def test_a_blocked_bot_records_an_opt_out_and_writing_again_resumes(assistant, fake):
    chat = 700007
    fake.fail_next(1, BLOCKED, chat_id=chat)
    post(assistant, message(chat, "/help"))
    assert fake.wait_for(lambda: [c for c in fake.calls_to("sendMessage", chat) if c.status == 403])
    db = assistant.workdir / "app.db"
    query = "select reason from opt_outs where sender = ?"
    assert fake.wait_for(lambda: rows(db, query, sender_of(chat))) == [("blocked",)]
    post(assistant, message(chat, "/help"))  # only someone who unblocked can write
    assert replies(fake, chat, 1)[0].text.startswith("What would you like help with?")
    assert rows(db, query, sender_of(chat)) == []


def test_a_sticker_gets_a_kind_plain_answer(assistant, fake):
    chat = 700008
    sticker = {
        "file_id": "CAACAgIAAxkBAAE", "file_unique_id": "AgADAQAD", "width": 512,
        "height": 512, "is_animated": False, "is_video": False, "type": "regular",
    }  # fmt: skip
    post(assistant, message(chat, sticker=sticker))
    [answer] = replies(fake, chat, 1)
    assert answer.text == UNREADABLE_TEXT and "I can read text" in answer.text


def test_a_crisis_gets_999_first(assistant, fake):
    chat = 700009
    post(assistant, message(chat, "i want to kill myself"))
    first = replies(fake, chat, 1)[0]
    assert "999" in first.text


def test_a_very_long_message_is_cut_and_the_person_is_told(assistant, fake):
    chat = 700010
    post(assistant, message(chat, "who can help with school transport " + "and more " * 400))
    sent = settle(fake, chat)
    assert sent[-1].text.startswith("Your message was long, so I only read the first part.")
    stored = rows(
        assistant.workdir / "app.db",
        "select length(text) from inbound_messages where sender = ?",
        sender_of(chat),
    )
    assert stored[0][0] <= 2000


def test_a_flood_gets_one_slow_down_reply_and_is_not_processed(assistant, fake):
    chat = 700011
    sticker = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
               "is_animated": False, "is_video": False, "type": "regular"}  # fmt: skip
    for _ in range(22):
        post(assistant, message(chat, sticker=sticker))
    sent = settle(fake, chat)
    assert [c.text for c in sent] == [UNREADABLE_TEXT] * 20 + [FLOOD_TEXT]


def test_polling_feeds_the_same_connector(assistant, fake):
    chat = 700012
    fake.queue_update(message(chat, "/help"))
    settings = dataclasses.replace(
        load_settings(), telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url
    )
    url = f"{assistant.base_url}/webhooks/telegram/webhook"
    forwarded = asyncio.run(telegram_poll.poll(make_bot(settings), url, SECRET, once=True))
    assert forwarded == 1
    assert replies(fake, chat, 1)[0].text.startswith("What would you like help with?")


def test_delete_asks_first_then_erases_the_chat_id_and_still_confirms(assistant, fake):
    chat = 700016
    post(assistant, message(chat, "/delete"))
    question = replies(fake, chat, 1)[0]
    assert question.text.startswith("Do you want me to delete our chat")
    assert question.buttons == [("Yes, delete", "/affirm"), ("No, keep it", "/deny")]
    post(assistant, button_press(chat, "/affirm"))
    done = replies(fake, chat, 2)[1]
    assert done.text.startswith("Done. I have deleted our chat history.")
    db, who = assistant.workdir / "app.db", sender_of(chat)
    assert rows(db, "select count(*) from contacts where sender = ?", who) == [(0,)]
    assert rows(db, "select count(*) from inbound_messages where sender = ?", who) == [(0,)]


def test_queued_messages_go_out_through_the_outbox(assistant, fake):
    chat = 700014
    post(assistant, message(chat, "/help"))
    replies(fake, chat, 1)
    engine = make_engine(f"sqlite:///{assistant.workdir / 'app.db'}")
    body = "Your request TW-0001 has been read by the SEND team."
    enqueue(engine, "telegram", sender_of(chat), body, dedupe_key="test:update:1")
    engine.dispose()
    assert replies(fake, chat, 2)[1].text == body


def test_when_telegram_stays_down_the_reply_waits_in_the_outbox(assistant, fake):
    chat = 700015
    fake.fail_next(4, SERVER_ERROR, chat_id=chat)  # every quick retry fails
    post(assistant, message(chat, "who can help with school transport"))
    sent = replies(fake, chat, 2, timeout=30)
    assert "can help:\n1. SEND Travel Assistance" in sent[0].text
    assert sent[0].text.endswith(
        "You can reply:\n- More options\n- Talk to someone\n- Give feedback"
    )
    assert sent[0].buttons == []  # the outbox sends plain text
    assert sent[1].text.startswith("We keep chats for 180 days.")
    query = "select status from outbox where recipient = ? order by id"

    def rows_sent():  # the outbox worker marks a message sent just after Telegram took it
        return rows(assistant.workdir / "app.db", query, sender_of(chat))

    fake.wait_for(lambda: rows_sent() == [("sent",), ("sent",)], 10)
    assert rows_sent() == [("sent",), ("sent",)]


def test_the_chat_id_is_kept_only_in_contacts(assistant, fake):
    chat = 700013
    post(assistant, message(chat, "who can help with school transport"))
    replies(fake, chat, 2)
    who = sender_of(chat)
    app_db, tracker_db = assistant.workdir / "app.db", assistant.workdir / "tracker.db"
    assert rows(app_db, "select channel, address from contacts where sender = ?", who) == [
        ("telegram", str(chat))
    ]
    assert rows(app_db, "select count(*) from inbound_messages where sender = ?", who) == [(1,)]
    with sqlite3.connect(app_db) as connection:
        holding = [line for line in connection.iterdump() if str(chat) in line]
    assert holding and all(line.startswith('INSERT INTO "contacts"') for line in holding)
    with sqlite3.connect(tracker_db) as connection:
        dump = "\n".join(connection.iterdump())
    assert str(chat) not in dump and who in dump


def test_without_a_token_the_webhook_answers_503():
    assert isinstance(TelegramInput.from_credentials(None), TelegramInput)
    connector = TelegramInput(dataclasses.replace(load_settings(), telegram_bot_token=""))
    request = SimpleNamespace(headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, json={})

    async def never(_message):
        raise AssertionError("nothing reaches Rasa")

    answer = asyncio.run(connector.receive(request, never))
    assert answer.status == 503
    assert connector.get_output_channel() is None


def test_feedback_on_telegram_is_stored_once_even_when_delivered_again(assistant, fake):
    chat = 700099
    db = assistant.workdir / "app.db"
    before = rows(db, "select count(*) from feedback")[0][0]
    sent = 0
    for answer in ("I want to give feedback", "general", "4", "quick and clear"):
        post(assistant, message(chat, answer))
        sent = len(replies(fake, chat, sent + 1))
    last = message(chat, "yes please")
    for _ in range(2):  # Telegram delivers the same update again
        assert post(assistant, last).status_code == 200
    thanks = settle(fake, chat)[-1]
    assert thanks.text == (
        "Thank you. Your feedback helps services get better. We will reply on this chat."
    )
    assert rows(db, "select count(*) from feedback")[0][0] == before + 1
    newest = "select channel, rating, consent, sender from feedback order by id desc"
    assert rows(db, newest)[0] == ("telegram", 4, 1, sender_of(chat))


def test_listen_sends_each_answer_as_a_voice_message_until_text_is_asked_for(
    assistant, fake, google
):
    chat = 700120
    post(assistant, message(chat, "who can help with school transport"))
    answer = replies(fake, chat, 2)[0]
    post(assistant, message(chat, "/listen"))
    (voice,) = fake.wait_for(lambda: fake.calls_to("sendVoice", chat))
    texts = [c.text for c in settle(fake, chat)]
    assert texts[2:] == [
        "OK. I will read my answers out loud as well.",
        "Here is my last answer again.",
        answer.text,
    ]
    upload = voice.params["voice"]
    assert isinstance(upload, Upload) and upload.filename == "answer.mp3"
    assert audio_kind(upload.data) == "mp3"
    assert "I will read my answers out loud as well" in google.texts
    post(assistant, message(chat, "speech therapy for my 4 year old"))
    assert len(fake.wait_for(lambda: fake.calls_to("sendVoice", chat)[1:])) == 1
    post(assistant, message(chat, "/text"))
    post(assistant, message(chat, "who can help with school transport"))
    settled = settle(fake, chat)
    assert settled[-2].text == (
        'OK. I will only send text now. Say "read it to me" to hear answers again.'
    )
    assert settled[-1].text == answer.text
    assert len(fake.calls_to("sendVoice", chat)) == 2


def test_when_google_refuses_the_offline_voice_is_sent_as_a_file(assistant, fake, google):
    chat = 700121
    post(assistant, message(chat, "read it to me"))
    fake.wait_for(lambda: fake.calls_to("sendVoice", chat))
    google.fail_next(429)
    post(assistant, message(chat, "my daughter needs a wheelchair ramp at home"))
    (sent,) = fake.wait_for(lambda: fake.calls_to("sendDocument", chat))
    google.failures.clear()
    upload = sent.params["document"]
    assert (upload.filename, audio_kind(upload.data)) == ("answer.wav", "wav")
