"""Text-to-speech engines: gTTS (Google Translate's voice, MP3) and espeak-ng (offline, WAV).

Each engine turns one piece of text into audio bytes or raises :class:`EngineError` with
a reason a person can read in the log. Every network call has a time limit.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Protocol

from gtts import gTTS, gTTSError

from bot.speech.audio import audio_kind
from bot.speech.config import SpeechSettings

log = logging.getLogger(__name__)


class EngineError(Exception):
    """The engine could not make audio for this text; the message says why."""


class SpeechEngine(Protocol):
    """Makes audio from text. ``voice`` is part of the cache key."""

    name: str
    voice: str
    extension: str
    content_type: str

    def unavailable_reason(self) -> str | None: ...

    def synthesise(self, text: str, language: str) -> bytes: ...


class GttsEngine:
    """Google Translate's text-to-speech through gTTS, with a British accent (tld co.uk).

    After a rate limit, a time-out or a server error it pauses for ``pause_seconds``, so
    a pre-render of many texts does not keep knocking on a closed door.
    """

    name, extension, content_type = "gtts", "mp3", "audio/mpeg"

    def __init__(
        self,
        tld: str = "co.uk",
        timeout: float = 10.0,
        pause_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tld, self.timeout, self.pause_seconds, self.clock = tld, timeout, pause_seconds, clock
        self.voice = f"gtts-{tld}"
        self.paused_until = 0.0
        self.pause_reason = ""

    def unavailable_reason(self) -> str | None:
        if self.clock() < self.paused_until:
            return f"gTTS is paused after an error ({self.pause_reason})"
        return None

    def synthesise(self, text: str, language: str) -> bytes:
        """MP3 bytes for ``text``; each HTTP request waits ``timeout`` seconds at most."""
        deadline = self.clock() + 2 * self.timeout
        tts = gTTS(text, lang=language, tld=self.tld, lang_check=False, timeout=self.timeout)
        audio = BytesIO()
        try:
            for part in tts.stream():
                audio.write(part)
                if self.clock() > deadline:
                    raise EngineError(f"gTTS took longer than {2 * self.timeout:.0f} s")
        except gTTSError as error:
            status = error.rsp.status_code if error.rsp is not None else None
            if status is None or status == 429 or status >= 500:
                self.paused_until = self.clock() + self.pause_seconds
                self.pause_reason = str(error)
            raise EngineError(f"gTTS failed: {error}") from error
        data = audio.getvalue()
        if audio_kind(data) != "mp3":
            raise EngineError(f"gTTS returned {len(data)} bytes that are not MP3")
        return data


class EspeakEngine:
    """espeak-ng, a speech synthesiser that runs on this machine with no network (WAV)."""

    name, extension, content_type = "espeak", "wav", "audio/wav"

    def __init__(
        self, binary: str = "espeak-ng", voice: str = "en-gb", speed: int = 150, timeout: float = 30
    ) -> None:
        self.binary, self.voice, self.speed, self.timeout = binary, voice, speed, timeout

    def unavailable_reason(self) -> str | None:
        return None if shutil.which(self.binary) else f"{self.binary} is not installed"

    def synthesise(self, text: str, language: str) -> bytes:
        """WAV bytes for ``text`` (the voice setting chooses the language and accent)."""
        program = shutil.which(self.binary)
        if program is None:
            raise EngineError(f"{self.binary} is not installed")
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "speech.wav"
            command = [program, "-v", self.voice, "-s", str(self.speed), "-w", str(out), "--stdin"]
            try:
                subprocess.run(
                    command, input=text.encode(), capture_output=True, timeout=self.timeout,
                    check=True,
                )  # fmt: skip
            except (subprocess.SubprocessError, OSError) as error:
                raise EngineError(f"{self.binary} failed: {error}") from error
            data = out.read_bytes() if out.is_file() else b""
        if audio_kind(data) != "wav":
            raise EngineError(f"{self.binary} made no WAV audio")
        return data


def build_engines(settings: SpeechSettings) -> list[SpeechEngine]:
    """The engines named in ``settings.engines``, in the order to try them."""
    makers: dict[str, Callable[[], SpeechEngine]] = {
        "gtts": lambda: GttsEngine(
            settings.gtts_tld, settings.gtts_timeout, settings.gtts_pause_seconds
        ),
        "espeak": lambda: EspeakEngine(settings.espeak_binary, settings.espeak_voice),
    }
    return [makers[name]() for name in settings.engines if name in makers]
