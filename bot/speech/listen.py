"""A whole reply read aloud ("listen"), for channels that can send or play a sound file.

The phone line plays a reply piece by piece; web chat and Telegram want one file for the
whole turn. :func:`listen_text` turns the turn's messages into the words to say (buttons
read as choices, the person's own words left out so they are never kept as audio), and
:class:`Listener` makes the file through the cache off the event loop, with a time limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.speech.cache import FAILED, Rendered, SpeechCache
from bot.speech.text import quotes, speech_segments

log = logging.getLogger(__name__)
MAX_LISTEN_CHARS = 3000  # about four minutes of speech; a longer reply is cut at a sentence


def _choices(titles: list[str]) -> str:
    if len(titles) == 1:
        return f"You can choose: {titles[0]}."
    return f"You can choose: {', '.join(titles[:-1])}, or {titles[-1]}."


def listen_text(messages: Iterable[dict[str, Any]], private: str = "") -> str:
    """The words to say for a turn's ``messages``: each text made speech-friendly, then
    its buttons as choices. A sentence repeating ``private`` (what the person wrote) is
    left out. Empty when there is nothing to say."""
    pieces: list[str] = []
    for message in messages:
        pieces += [p for p in speech_segments(str(message.get("text") or "")) if p]
        titles = [str(b.get("title") or "").strip() for b in message.get("buttons") or []]
        if titles := [t for t in titles if t]:
            pieces.append(_choices(titles))
    kept = [p for p in pieces if not quotes(p, private)]
    text = " ".join(kept)
    if len(text) > MAX_LISTEN_CHARS:
        text = text[:MAX_LISTEN_CHARS].rsplit(". ", 1)[0] + "."
    return text


class Listener:
    """Makes the audio for a reply in a worker thread; gives up waiting after ``timeout``.

    A render that is still running when the caller stops waiting goes on, so the audio
    is in the cache the next time someone asks.
    """

    def __init__(self, cache: Callable[[], SpeechCache], timeout: float = 30.0) -> None:
        self.cache, self.timeout = cache, timeout
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="listen")

    async def audio(self, text: str) -> Rendered:
        """The cached or newly made audio for ``text``; failed (with reasons) if none."""
        if not text.strip():
            return Rendered(FAILED, None, ("there is nothing to say",))
        loop = asyncio.get_running_loop()
        try:
            work = loop.run_in_executor(self.executor, self.cache().render, text)
            return await asyncio.wait_for(asyncio.shield(work), self.timeout)
        except asyncio.TimeoutError:
            reason = f"making the audio took longer than {self.timeout:g} s"
        except Exception as error:  # the audio index or the disk is unavailable
            log.exception("listen: could not make audio")
            reason = f"the audio cache failed: {error!r}"
        log.warning("listen: no audio for a reply: %s", reason)
        return Rendered(FAILED, None, (reason,))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
