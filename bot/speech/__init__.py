"""Easy-read text to speech: speech-friendly text, engines (gTTS, espeak-ng), a disk cache
indexed in the database, and pre-rendering of every fixed text.

Nothing here imports Rasa or a channel: ``channels/voice.py`` plays what this makes.
"""

from bot.speech.cache import Audio, AudioRow, Rendered, SpeechCache, audio_key
from bot.speech.config import SpeechSettings, load_speech_settings
from bot.speech.engines import EngineError, EspeakEngine, GttsEngine, build_engines
from bot.speech.text import segments, speak_phone, speech_segments, speech_text

__all__ = [
    "Audio",
    "AudioRow",
    "EngineError",
    "EspeakEngine",
    "GttsEngine",
    "Rendered",
    "SpeechCache",
    "SpeechSettings",
    "audio_key",
    "build_engines",
    "load_speech_settings",
    "segments",
    "speak_phone",
    "speech_segments",
    "speech_text",
]
