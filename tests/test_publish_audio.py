"""The audio guide: real gTTS against the fake Google endpoint, real espeak-ng and lame,
each recording's playback length measured, and the whole `directory publish` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date

import pytest

from bot.config import PROJECT_ROOT
from bot.publish.audio import guide_parts, playlist, render_guide, wav_seconds
from bot.publish.content import build_guide
from bot.publish.report import stale_entries
from bot.speech.audio import mp3_frames
from bot.speech.cache import SpeechCache
from bot.speech.engines import EspeakEngine, GttsEngine
from bot.text import normalise
from tests.fakes.gtts_api import FRAME_SECONDS, FakeGoogleTTS, mp3_for

TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def parts(sample_directory):
    return guide_parts(build_guide(sample_directory, made=TODAY))


@pytest.fixture
def google(monkeypatch) -> Iterator[FakeGoogleTTS]:
    with FakeGoogleTTS() as fake:
        monkeypatch.setenv("HTTPS_PROXY", fake.proxy_url)
        monkeypatch.setenv("SSL_CERT_FILE", str(fake.cert_file))
        yield fake


def test_gtts_recordings_play_for_as_long_as_google_spoke(engine, tmp_path, parts, google):
    cache = SpeechCache(engine, tmp_path / "cache", [GttsEngine(timeout=5)])
    recordings = []
    for part in parts[:3]:  # one at a time, so each file's requests are known
        before = len(google.texts)
        (recording,), failed = render_guide(cache, [part], tmp_path / "audio", lame="")
        assert failed == []
        said = google.texts[before:]  # gTTS sends a long text in pieces of 100 characters
        assert normalise(" ".join(said)) == normalise(part.spoken)
        assert recording.path.read_bytes() == b"".join(mp3_for(text) for text in said)
        frames = sum(mp3_frames(mp3_for(text)) for text in said)
        assert recording.seconds == pytest.approx(frames * FRAME_SECONDS)
        assert recording.seconds > 0.35 * len(part.spoken.split())  # the fake's pace
        recordings.append(recording)
    assert [r.path.name for r in recordings] == [
        "00-introduction-and-emergency-numbers.mp3",
        "01-a-break-from-caring.mp3",
        "02-advice-about-send-rights.mp3",
    ]
    assert {r.engine for r in recordings} == {"gtts"}
    intro = recordings[0]
    assert playlist(recordings).splitlines()[:3] == [
        "#EXTM3U", f"#EXTINF:{round(intro.seconds)},Introduction and emergency numbers",
        intro.path.name,
    ]  # fmt: skip
    # Published again (or played on the phone line): the same files, nothing made twice.
    asked = len(google.texts)
    again, _ = render_guide(cache, parts[:3], tmp_path / "again", lame="")
    assert len(google.texts) == asked
    assert [r.path.read_bytes() for r in again] == [r.path.read_bytes() for r in recordings]


def test_espeak_recordings_become_mp3_of_the_same_length(engine, tmp_path, parts):
    cache = SpeechCache(engine, tmp_path / "cache", [EspeakEngine()])
    wavs, _ = render_guide(cache, parts[1:3], tmp_path / "wav", lame="")
    assert [r.path.suffix for r in wavs] == [".wav", ".wav"]
    lame = shutil.which("lame")
    assert lame, "lame is missing: run `make publish-tools`"
    mp3s, failed = render_guide(cache, parts[1:3], tmp_path / "mp3", lame=lame)
    assert failed == [] and [r.path.suffix for r in mp3s] == [".mp3", ".mp3"]
    for wav, mp3, part in zip(wavs, mp3s, parts[1:3], strict=True):
        words = len(part.spoken.split())
        assert wav.seconds == wav_seconds(wav.path)
        assert 0.2 * words < wav.seconds < 0.8 * words  # espeak speaks about 150 words a minute
        assert mp3.seconds == pytest.approx(wav.seconds, abs=0.2)  # frames, encoder delay
        assert mp3.path.stat().st_size < wav.path.stat().st_size / 3


def test_no_engine_means_no_recording_and_says_why(engine, tmp_path, parts):
    cache = SpeechCache(engine, tmp_path / "cache", [EspeakEngine(binary="no-such-espeak")])
    recordings, failed = render_guide(cache, parts[:1], tmp_path / "audio", lame="")
    assert recordings == []
    assert [(p.key, reason) for p, reason in failed] == [
        ("introduction", "no-such-espeak is not installed")
    ]


def test_the_publish_command_writes_everything(tmp_path, sample_directory):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "AUDIO_DIR": str(tmp_path / "cache"),
        "SPEECH_ENGINES": "espeak",
        "PUBLIC_URL": "https://send-assistant.example.org",
    }

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=PROJECT_ROOT, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    empty = bot("directory", "publish", "--out", str(tmp_path / "site"))
    assert empty.returncode == 2
    assert "The directory is empty: import one first (make db)." in empty.stderr
    assert bot("directory", "import").returncode == 0
    done = bot("directory", "publish", "--out", str(tmp_path / "site"))
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    written = [
        "index.html",
        "you-said-we-did.html",
        "whos-who.pdf",
        "whos-who-a4.pdf",
        "whos-who-a5.pdf",
        "report.txt",
        "audio/index.html",
        "audio/whos-who.m3u",
    ]
    for name in written:
        assert (site / name).is_file(), name
    assert (site / "whos-who.pdf").read_bytes() == (site / "whos-who-a4.pdf").read_bytes()
    index = json.loads((site / "audio" / "index.json").read_text())
    guide = build_guide(sample_directory, made=date.today())
    assert len(index["parts"]) == len(guide.sections) + 1 and index["not_made"] == []
    assert {p["engine"] for p in index["parts"]} == {"espeak"}
    assert sorted(p.name for p in (site / "audio").glob("*.mp3")) == sorted(
        p["file"] for p in index["parts"]
    )
    assert 'action="https://send-assistant.example.org/whos-who/search"' in (
        (site / "index.html").read_text()
    )
    report = (site / "report.txt").read_text()
    assert report == done.stdout.split("Open ")[0]
    stale = stale_entries(sample_directory, date.today())
    heading = f"For the Local Offer team: not checked for 6 months ({len(stale)}):"
    lines = report.splitlines()
    listed = lines[lines.index(heading) + 1 : lines.index(heading) + 1 + len(stale)]
    assert [line.split()[0] for line in listed] == [e.key for e in stale]
    assert len(stale) >= 5  # the sample has five entries checked long ago
