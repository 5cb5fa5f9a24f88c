"""Answers as sound on Telegram: the real python-telegram-bot Bot uploads the audio to a fake
Bot API on loopback; the audio comes from the real cache and engines."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Iterator

import pytest

from bot.config import load_settings
from bot.speech.config import SpeechSettings
from channels.telegram import NO_AUDIO_TEXT, ReplyTo, TelegramInput
from tests.fakes.telegram_api import FakeTelegram, Upload

TOKEN = "123:ABC"
ANSWER = [{"text": "These can help:\n1. SEND Team: Plans for school. Call 01632 960103."}]
needs_espeak = pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng missing")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as running:
        yield running


def connector(engine, tmp_path, fake: FakeTelegram, engines: tuple[str, ...]) -> TelegramInput:
    settings = dataclasses.replace(
        load_settings(),
        database_url=str(engine.url),
        telegram_bot_token=TOKEN,
        telegram_webhook_secret="s3cret",  # noqa: S106 (a test secret)
        telegram_api_base_url=fake.base_url,
        audio_dir=tmp_path / "audio",
    )
    return TelegramInput(settings, SpeechSettings(engines=engines))


async def _send(telegram: TelegramInput, chat_id: int) -> None:
    await telegram.send_audio(ReplyTo("telegram-x", chat_id), ANSWER, private="")
    await telegram.sender.bot.request.shutdown()


@needs_espeak
def test_offline_speech_goes_as_a_wav_file(engine, tmp_path, fake):
    asyncio.run(_send(connector(engine, tmp_path, fake, ("espeak",)), 42))
    (call,) = fake.calls_to("sendDocument", 42)
    upload = call.params["document"]
    assert isinstance(upload, Upload) and upload.filename == "answer.wav"
    assert upload.data[:4] == b"RIFF" and len(upload.data) > 20_000
    assert fake.calls_to("sendVoice") == [] and fake.sent_to(42) == []


def test_with_no_engine_a_line_says_the_sound_cannot_be_made(engine, tmp_path, fake, caplog):
    asyncio.run(_send(connector(engine, tmp_path, fake, ()), 43))
    assert [call.text for call in fake.sent_to(43)] == [NO_AUDIO_TEXT]
    assert "no speech engine is configured" in caplog.text
