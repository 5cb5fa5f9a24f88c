"""Speech audio for the channels. The phone line plays it from the cache and makes what is
missing in the background (:class:`Speaker`); web chat and Telegram get a whole reply as one
file when someone asks to listen (:class:`ReplyAudio`). Files are served for Twilio's <Play>
and the web chat page at /webhooks/voice/audio/<key>.<ext> and /webhooks/webchat/audio/...

A file never changes once made (its name is the hash of what it says), so it is sent
with a year-long ``Cache-Control``, its key as a strong ETag, and 304 when the client
already has it. Only files indexed in the database are served.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml import TwiML

from bot.config import Settings
from bot.db import shared_engine
from bot.speech.cache import Rendered, SpeechCache
from bot.speech.config import SpeechSettings, load_speech_settings
from bot.speech.engines import build_engines
from bot.speech.listen import Listener, listen_text
from bot.speech.text import quotes, speech_segments
from channels.voice_twiml import Spoken, add_speech

log = logging.getLogger(__name__)
CACHE_CONTROL = "public, max-age=31536000, immutable"
LISTEN_TIMEOUT = 30.0


def open_cache(settings: Settings, speech: SpeechSettings) -> SpeechCache:
    """The audio cache in ``AUDIO_DIR``, indexed in the application database."""
    db = shared_engine(settings.database_url)
    return SpeechCache(db, settings.audio_dir, build_engines(speech), speech.language)


class ReplyAudio:
    """A whole reply as one audio file, for "read it to me" on web chat and Telegram."""

    def __init__(self, settings: Settings, speech: SpeechSettings | None = None) -> None:
        self.settings, self.speech = settings, speech or load_speech_settings()
        self._cache: SpeechCache | None = None
        self.listener = Listener(lambda: self.cache, LISTEN_TIMEOUT)

    @property
    def cache(self) -> SpeechCache:
        if self._cache is None:
            self._cache = open_cache(self.settings, self.speech)
        return self._cache

    async def for_messages(self, messages: list[dict[str, Any]], private: str = "") -> Rendered:
        """The audio for a turn's messages, leaving out sentences that repeat ``private``."""
        return await self.listener.audio(listen_text(messages, private))


class Speaker:
    """Adds speech to TwiML: <Play> from the cache, else <Say> while a worker makes the audio.

    Rendering never happens in a webhook: missing pieces go to a small thread pool, and a
    piece already being made is not queued twice.
    """

    def __init__(
        self,
        cache: Callable[[], SpeechCache],
        url_for: Callable[[str], str],
        speech: SpeechSettings,
    ) -> None:
        self.cache, self.url_for, self.speech = cache, url_for, speech
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="speech")
        self.rendering: set[str] = set()
        self.lock = threading.Lock()

    def spoken(self, text: str, private: str = "") -> Spoken:
        """``text`` as speech pieces with their cached audio URLs; queues what is missing,
        except pieces that repeat the caller's own words (``private``): those are only said."""
        pieces = tuple(speech_segments(text))
        try:
            audio = self.cache().cached_many(pieces)
        except Exception:
            log.exception("voice: the audio index is unavailable; using <Say>")
            audio = [None] * len(pieces)
        result = Spoken(pieces, tuple(self.url_for(a.filename) if a else None for a in audio))
        self.render_later(tuple(p for p in result.missing if not quotes(p, private)))
        return result

    def say(self, target: TwiML, text: str, private: str = "") -> None:
        spoken = self.spoken(text, private)
        add_speech(target, spoken, self.speech.say_voice, self.speech.say_language)

    def render_later(self, pieces: tuple[str, ...]) -> None:
        """Make the audio for ``pieces`` in a worker thread, so next time it is played."""
        if not self.speech.engines:
            return
        with self.lock:
            todo = [p for p in pieces if p not in self.rendering]
            self.rendering.update(todo)
        for piece in todo:
            future = self.executor.submit(self.cache().render, piece)
            future.add_done_callback(functools.partial(self._done, piece))

    def _done(self, piece: str, _future: object = None) -> None:
        with self.lock:
            self.rendering.discard(piece)


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


async def audio_response(cache: SpeechCache, name: str, request: Request) -> HTTPResponse:
    """The audio file called ``name``; 404 if unknown, 304 if the client has it already."""
    key, _, extension = name.partition(".")
    audio = cache.by_key(key)
    if audio is None or audio.path.suffix != f".{extension}":
        return response.text("Not found", status=404)
    etag = f'"{audio.key}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if _matches(request.headers.get("If-None-Match", ""), etag):
        return response.empty(status=304, headers=headers)
    return await response.file(audio.path, mime_type=audio.content_type, headers=headers)
