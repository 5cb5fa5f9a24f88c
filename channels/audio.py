"""Speech audio for the phone line: play it from the cache, make what is missing in the
background, and serve the files for Twilio's <Play> at /webhooks/voice/audio/<key>.<ext>.

A file never changes once made (its name is the hash of what it says), so it is sent
with a year-long ``Cache-Control``, its key as a strong ETag, and 304 when the client
already has it. Only files indexed in the database are served.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml import TwiML

from bot.speech.cache import SpeechCache
from bot.speech.config import SpeechSettings
from bot.speech.text import speech_segments
from channels.voice_twiml import Spoken, add_speech, quotes

log = logging.getLogger(__name__)
CACHE_CONTROL = "public, max-age=31536000, immutable"


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
            future.add_done_callback(lambda _f, p=piece: self._done(p))

    def _done(self, piece: str) -> None:
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
