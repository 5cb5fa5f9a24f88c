"""Speech settings, read from the environment (and ``.env``) like ``bot.config``.

``SPEECH_ENGINES`` lists the engines to try in order ("gtts,espeak" by default;
"none" means no audio: the phone line uses Twilio's own voice). Where the files go is
``AUDIO_DIR`` in ``bot.config``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.config import PROJECT_ROOT, _read_dotenv

KNOWN_ENGINES = ("gtts", "espeak")


@dataclass(frozen=True)
class SpeechSettings:
    """How to make speech: engines in order, language, voices and time limits."""

    engines: tuple[str, ...] = KNOWN_ENGINES
    language: str = "en"
    gtts_tld: str = "co.uk"
    gtts_timeout: float = 10.0
    gtts_pause_seconds: float = 300.0
    espeak_voice: str = "en-gb"
    espeak_binary: str = "espeak-ng"
    say_voice: str = "Polly.Amy"
    say_language: str = "en-GB"


def load_speech_settings() -> SpeechSettings:
    """Speech settings from the environment, with the defaults above."""
    dotenv = _read_dotenv(PROJECT_ROOT / ".env")

    def env(name: str, default: str) -> str:
        return os.environ.get(name) or dotenv.get(name) or default

    names = env("SPEECH_ENGINES", ",".join(KNOWN_ENGINES)).lower().replace(" ", "")
    engines = tuple(n for n in names.split(",") if n in KNOWN_ENGINES)
    return SpeechSettings(
        engines=engines,
        gtts_tld=env("SPEECH_GTTS_TLD", "co.uk"),
        gtts_timeout=float(env("SPEECH_GTTS_TIMEOUT", "10")),
        gtts_pause_seconds=float(env("SPEECH_GTTS_PAUSE", "300")),
        espeak_voice=env("SPEECH_ESPEAK_VOICE", "en-gb"),
        espeak_binary=env("SPEECH_ESPEAK_BINARY", "espeak-ng"),
        say_voice=env("VOICE_SAY_VOICE", "Polly.Amy"),
        say_language=env("VOICE_SAY_LANGUAGE", "en-GB"),
    )
