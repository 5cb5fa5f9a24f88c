"""Speech: real gTTS against a fake Google endpoint, real espeak-ng, the cache and pre-rendering.

gTTS is not patched: it goes out through ``HTTPS_PROXY`` (it passes the system proxies to
requests) to ``tests/fakes/gtts_api.py``, which answers the tunnelled request with a real
MP3 in Google's format.
"""

from __future__ import annotations

import array
import asyncio
import dataclasses
import io
import math
import shutil
import sqlite3
import time
import wave
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from twilio.twiml.voice_response import VoiceResponse

from bot.config import PROJECT_ROOT, load_settings
from bot.speech.audio import audio_kind
from bot.speech.cache import FAILED, NEW, REUSED, SpeechCache
from bot.speech.config import SpeechSettings
from bot.speech.engines import EspeakEngine, GttsEngine, build_engines
from bot.speech.listen import Listener, listen_text
from bot.speech.prerender import pieces, prerender
from bot.speech.text import quotes, speech_segments
from channels.audio import Speaker
from channels.voice_twiml import Spoken, add_speech, choices
from tests.fakes.gtts_api import FakeGoogleTTS, mp3_for

HAS_ESPEAK = shutil.which("espeak-ng") is not None
needs_espeak = pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng is not installed")
TEXT = "Money and help to change your home, like wet rooms and ramps."


@pytest.fixture(scope="module")
def fake_google() -> Iterator[FakeGoogleTTS]:
    with FakeGoogleTTS(hang_seconds=2.0) as fake:
        yield fake


@pytest.fixture
def google(fake_google, monkeypatch) -> FakeGoogleTTS:
    """The fake, reached through the proxy settings gTTS honours, with no failures queued."""
    monkeypatch.setenv("HTTPS_PROXY", fake_google.proxy_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(fake_google.cert_file))
    monkeypatch.delenv("https_proxy", raising=False)
    fake_google.failures.clear()
    return fake_google


def _cache(engine, tmp_path, *engines) -> SpeechCache:
    return SpeechCache(engine, tmp_path / "audio", list(engines))


def _rows(tmp_path):
    with sqlite3.connect(tmp_path / "app.db") as db:
        return db.execute(
            "select key, engine, voice, text, filename, content_type, size from speech_audio"
        ).fetchall()


def test_gtts_audio_lands_in_the_cache_as_a_real_mp3(engine, tmp_path, google):
    before = len(google.requests)
    cache = _cache(engine, tmp_path, GttsEngine(timeout=2))
    outcome = cache.render(TEXT)
    assert outcome.status == NEW
    assert google.tunnels[-1] == "translate.google.co.uk:443"
    assert google.requests[before:] == [
        {"path": "/_/TranslateWebserverUi/data/batchexecute", "text": TEXT, "lang": "en"}
    ]
    audio = outcome.audio
    assert audio.path == tmp_path / "audio" / f"{audio.key}.mp3"
    assert audio.path.read_bytes() == mp3_for(TEXT)
    assert _rows(tmp_path) == [
        (audio.key, "gtts", "gtts-co.uk", TEXT, audio.path.name, "audio/mpeg", len(mp3_for(TEXT)))
    ]
    assert [p.name for p in (tmp_path / "audio").iterdir()] == [audio.path.name]


def test_a_second_request_makes_no_new_http_call(engine, tmp_path, google):
    first = _cache(engine, tmp_path, GttsEngine(timeout=2)).render(TEXT)
    calls = len(google.requests)
    again = _cache(engine, tmp_path, GttsEngine(timeout=2)).render(TEXT)  # as a new process
    assert (again.status, again.audio) == (REUSED, first.audio)
    assert len(google.requests) == calls


def test_a_file_gone_from_disk_is_made_again(engine, tmp_path, google):
    cache = _cache(engine, tmp_path, GttsEngine(timeout=2))
    cache.render(TEXT).audio.path.unlink()
    assert cache.cached(TEXT) is None
    assert cache.render(TEXT).status == NEW


@needs_espeak
def test_a_rate_limit_falls_back_to_espeak_and_pauses_gtts(engine, tmp_path, google):
    cache = _cache(engine, tmp_path, GttsEngine(timeout=2), EspeakEngine())
    google.fail_next(429)
    outcome = cache.render(TEXT)
    assert (outcome.status, outcome.audio.engine) == (NEW, "espeak")
    assert outcome.audio.path.suffix == ".wav"
    assert outcome.audio.content_type == "audio/wav"
    calls = len(google.requests)
    assert cache.render("Call the SEND Team.").audio.engine == "espeak"
    assert len(google.requests) == calls  # paused after the 429: no knocking on a closed door


@needs_espeak
def test_audio_from_the_fallback_is_made_again_once_gtts_works(engine, tmp_path, google):
    offline = _cache(engine, tmp_path, EspeakEngine()).render(TEXT)
    cache = _cache(engine, tmp_path, GttsEngine(timeout=2), EspeakEngine())
    assert cache.cached(TEXT) == offline.audio  # played meanwhile
    better = cache.render(TEXT)
    assert (better.status, better.audio.engine) == (NEW, "gtts")
    assert cache.cached(TEXT) == better.audio
    google.fail_next(429)
    paused = _cache(engine, tmp_path, GttsEngine(timeout=2), EspeakEngine())
    assert paused.render("Call the SEND Team.").audio.engine == "espeak"
    assert paused.render("Call the SEND Team.").status == REUSED  # gTTS paused: kept


@needs_espeak
def test_a_timeout_falls_back_to_espeak(engine, tmp_path, google):
    cache = _cache(engine, tmp_path, GttsEngine(timeout=0.5), EspeakEngine())
    google.fail_next("hang")
    started = time.monotonic()
    outcome = cache.render(TEXT)
    assert (outcome.status, outcome.audio.engine) == (NEW, "espeak")
    assert time.monotonic() - started < 1.9  # gave up before the fake answered


def test_with_no_engine_that_works_the_phone_uses_say(engine, tmp_path, google, caplog):
    cache = _cache(engine, tmp_path, GttsEngine(timeout=2))
    google.fail_next(429)
    outcome = cache.render(TEXT)
    assert (outcome.status, outcome.audio) == (FAILED, None)
    assert "429" in outcome.reasons[0]
    assert "speech: no audio for" in caplog.text
    pieces_ = tuple(speech_segments(TEXT))
    reply = VoiceResponse()
    add_speech(reply, Spoken(pieces_, tuple(None for _ in pieces_)), "Polly.Amy", "en-GB")
    (say,) = ET.fromstring(str(reply))  # noqa: S314
    assert (say.tag, say.text, say.get("voice"), say.get("language")) == (
        "Say", TEXT, "Polly.Amy", "en-GB",
    )  # fmt: skip


def test_the_phone_line_never_keeps_the_callers_own_words_as_audio(engine, tmp_path, google):
    cache = _cache(engine, tmp_path, GttsEngine(timeout=2))
    speaker = Speaker(lambda: cache, lambda name: f"https://x/{name}", SpeechSettings())
    reply = 'I can send this to the Local Offer Team:\n"Purple  elephant, trombone."\nShall I?'
    spoken = speaker.spoken(reply, private="purple elephant trombone")
    speaker.executor.shutdown(wait=True)
    assert spoken.missing == (
        "I can send this to the Local Offer Team.", '"Purple elephant, trombone."', "Shall I?",
    )  # fmt: skip
    assert sorted(r[3] for r in _rows(tmp_path)) == [
        "I can send this to the Local Offer Team.", "Shall I?",
    ]  # fmt: skip
    assert quotes("Shall I?", "") is False


def test_no_engines_configured_is_a_logged_failure(engine, tmp_path):
    engines = build_engines(SpeechSettings(engines=()))
    outcome = _cache(engine, tmp_path, *engines).render(TEXT)
    assert outcome.reasons == ("no speech engine is configured (SPEECH_ENGINES)",)


def test_every_cached_piece_is_played(engine, tmp_path, google):
    cache = _cache(engine, tmp_path, GttsEngine(timeout=2))
    audio = cache.render(TEXT).audio
    reply = VoiceResponse()
    add_speech(reply, Spoken((TEXT, TEXT), ("u1", "u2")), "Polly.Amy", "en-GB")
    assert [(e.tag, e.text) for e in ET.fromstring(str(reply))] == [  # noqa: S314
        ("Play", "u1"), ("Play", "u2"),
    ]  # fmt: skip
    assert cache.cached_many([TEXT, "never said"]) == [audio, None]


@needs_espeak
def test_espeak_makes_plausible_speech():
    text = "Call the SEND Team on 0 1 6 3 2, 9 6 0, 1 0 3. They can help."
    data = EspeakEngine().synthesise(text, "en")
    with wave.open(io.BytesIO(data)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2)
        seconds = audio.getnframes() / audio.getframerate()
        samples = array.array("h", audio.readframes(audio.getnframes()))
    words = len(text.split())
    assert 0.2 * words < seconds < 1.0 * words
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    assert rms > 500  # speech, not silence


def test_prerender_makes_every_fixed_text_once(loaded_engine, tmp_path, google):
    settings = dataclasses.replace(load_settings(), audio_dir=tmp_path / "audio")
    gtts_only = SpeechSettings(engines=("gtts",), gtts_timeout=2)
    domain = PROJECT_ROOT / "domain.yml"
    before = len(google.requests)
    first = prerender(loaded_engine, settings, domain, gtts_only, progress=False)
    made = google.texts[before:]
    assert (first.reused, first.failed) == (0, 0)
    assert first.new == len(made) == len(set(made)) > 100
    assert TEXT in made  # a directory summary
    assert "If someone is in danger right now, call 9 9 9." in made
    assert "Press 1 for education, health and care plans." in made
    assert "Goodbye." in made  # domain.yml utter_goodbye
    second = prerender(loaded_engine, settings, domain, gtts_only, progress=False)
    assert (second.new, second.reused, second.failed) == (0, first.new, 0)
    assert len(google.requests) == before + first.new


def test_prerender_reports_what_failed(loaded_engine, tmp_path, google):
    settings = dataclasses.replace(load_settings(), audio_dir=tmp_path / "audio")
    google.fail_next(429)
    report = prerender(
        loaded_engine, settings, PROJECT_ROOT / "domain.yml",
        SpeechSettings(engines=("gtts",), gtts_timeout=2), progress=False,
    )  # fmt: skip
    assert report.new == 0 and report.failed == report.total > 100
    assert "429" in report.failures[0][1]
    assert "gTTS is paused" in report.failures[1][1]


def test_pieces_are_distinct_and_in_order():
    assert pieces(["Hello. Call 999.", "Hello. Bye."]) == ["Hello.", "Call 9 9 9.", "Bye."]


def test_a_questions_buttons_become_keys_and_the_offer_does_not():
    offer = [{"title": "More options", "payload": "/more_options"}]
    topics = [{"title": "Extra help at school", "payload": '/ask_signpost{"need":"x"}'}]
    rating = [{"title": f"{n} Word", "payload": str(n)} for n in (5, 4)]
    yes_no = [
        {"title": "Yes, send it", "payload": "/affirm"},
        {"title": "No, don't send", "payload": "/deny"},
    ]
    assert choices([{"text": "x", "buttons": offer}]) == []
    assert choices([{"text": "x", "buttons": topics}]) == []
    assert choices([{"text": "x", "buttons": rating}]) == [("5", "5", "Word"), ("4", "4", "Word")]
    assert choices([{"text": "x", "buttons": yes_no}, {"text": "y"}]) == [
        ("1", "/affirm", "Yes, send it"), ("2", "/deny", "No, don't send"),
    ]  # fmt: skip


# --- "read it to me": a whole reply as one file, for web chat and Telegram --------------

SIGNPOST = {
    "text": "These can help:\n1. SEND Team 0-25: Plans for school. Call 01632 960103.",
    "buttons": [
        {"title": "More options", "payload": "/more_options"},
        {"title": "Talk to someone", "payload": "/talk_to_someone"},
    ],
}


def test_a_reply_is_read_with_its_choices_and_numbers_in_groups():
    assert listen_text([SIGNPOST, {"custom": {"signpost": ["send_team"]}}]) == (
        "These can help. SEND Team 0 to 25. Plans for school. "
        "Call 0 1 6 3 2, 9 6 0, 1 0 3. You can choose: More options, or Talk to someone."
    )


def test_a_sentence_repeating_the_persons_words_is_not_read():
    reply = [{"text": 'You wrote:\n"my son hates the bus"\nIs that right?'}]
    assert listen_text(reply, private="My son hates the bus") == "You wrote. Is that right?"
    assert listen_text([{"text": "  "}, {"custom": {"read_aloud": True}}]) == ""


def test_listening_makes_one_mp3_and_reuses_it(engine, tmp_path, google):
    cache = _cache(engine, tmp_path, GttsEngine(timeout=2))
    listener = Listener(lambda: cache, timeout=5)
    text, before = listen_text([SIGNPOST]), len(google.texts)
    first = asyncio.run(listener.audio(text))
    made = len(google.texts)
    second = asyncio.run(listener.audio(text))
    listener.close()
    assert (first.status, second.status) == (NEW, REUSED)
    assert first.audio == second.audio and first.audio.content_type == "audio/mpeg"
    assert audio_kind(first.audio.path.read_bytes()) == "mp3"
    assert made - before == 9  # gTTS asks once per phrase (it cuts at . , and :)
    assert len(google.texts) == made  # the second time came from the cache


@needs_espeak
def test_a_slow_engine_never_holds_the_reply_and_the_audio_is_ready_next_time(
    engine, tmp_path, google
):
    cache = _cache(engine, tmp_path, GttsEngine(timeout=1), EspeakEngine())
    listener = Listener(lambda: cache, timeout=0.2)
    google.fail_next("hang")
    started = time.monotonic()
    slow = asyncio.run(listener.audio(TEXT))
    waited = time.monotonic() - started
    listener.executor.shutdown(wait=True)  # the render goes on: gTTS times out, espeak speaks
    assert (slow.status, slow.audio) == (FAILED, None)
    assert slow.reasons == ("making the audio took longer than 0.2 s",)
    assert waited < 0.9
    later = asyncio.run(Listener(lambda: cache).audio(TEXT))
    assert (later.status, later.audio.engine) == (REUSED, "espeak")


def test_nothing_to_say_is_a_failure_with_a_reason(engine, tmp_path):
    outcome = asyncio.run(Listener(lambda: _cache(engine, tmp_path)).audio(" "))
    assert (outcome.status, outcome.reasons) == (FAILED, ("there is nothing to say",))
