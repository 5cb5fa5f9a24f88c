"""The audio cache: each piece of speech is made once, kept on disk and indexed in the database.

A file is named by the sha256 of (text, language, voice, engine), so the same words in
the same voice are never made twice and a file never changes once written: it can be
served with a long ``Cache-Control`` and its key as the ETag.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, DateTime, Integer, String, Text, delete, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import Base, session_scope, utcnow
from bot.speech.engines import EngineError, SpeechEngine

if TYPE_CHECKING:
    from bot.privacy import ErasureTarget, RetentionRun

log = logging.getLogger(__name__)
KEY_PATTERN = re.compile(r"^[0-9a-f]{64}$")
NEW, REUSED, FAILED = "new", "reused", "failed"


class AudioRow(Base):
    """One audio file in ``AUDIO_DIR``: what it says, which engine made it, and its type."""

    __tablename__ = "speech_audio"
    key = Column(String(64), primary_key=True)
    engine = Column(String(16), nullable=False)
    language = Column(String(16), nullable=False)
    voice = Column(String(32), nullable=False)
    text = Column(Text, nullable=False)
    filename = Column(String(80), nullable=False)
    content_type = Column(String(32), nullable=False)
    size = Column(Integer, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


@dataclass(frozen=True)
class Audio:
    """A cached audio file."""

    key: str
    engine: str
    text: str
    path: Path
    content_type: str

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Rendered:
    """The outcome of asking for audio: new, reused or failed (with the reasons)."""

    status: str
    audio: Audio | None
    reasons: tuple[str, ...] = ()


def audio_key(text: str, language: str, voice: str, engine: str) -> str:
    """The cache key: sha256 of the text, language, voice and engine."""
    return hashlib.sha256(json.dumps([text, language, voice, engine]).encode()).hexdigest()


def _audio(row: AudioRow, audio_dir: Path) -> Audio:
    return Audio(
        str(row.key), str(row.engine), str(row.text), audio_dir / str(row.filename),
        str(row.content_type),
    )  # fmt: skip


class SpeechCache:
    """Finds cached speech and makes what is missing with the first engine that works."""

    def __init__(
        self, db: Engine, audio_dir: Path, engines: Sequence[SpeechEngine], language: str = "en"
    ) -> None:
        self.db, self.audio_dir, self.engines, self.language = db, audio_dir, engines, language

    def keys(self, text: str) -> list[str]:
        """The key ``text`` would have with each engine, in order of preference."""
        return [audio_key(text, self.language, e.voice, e.name) for e in self.engines]

    def cached_many(self, texts: Sequence[str]) -> list[Audio | None]:
        """For each text, its best cached audio whose file is on disk, or None."""
        wanted = {text: self.keys(text) for text in texts}
        all_keys = [key for keys in wanted.values() for key in keys]
        with session_scope(self.db) as session:
            rows = session.scalars(select(AudioRow).where(AudioRow.key.in_(all_keys))).all()
            found = {str(row.key): _audio(row, self.audio_dir) for row in rows}
        result: list[Audio | None] = []
        for text in texts:
            hits = (found.get(key) for key in wanted[text])
            result.append(next((a for a in hits if a and a.path.is_file()), None))
        return result

    def cached(self, text: str) -> Audio | None:
        return self.cached_many([text])[0]

    def by_key(self, key: str) -> Audio | None:
        """The audio stored under ``key`` (for serving it), if its file is on disk."""
        if not KEY_PATTERN.match(key):
            return None
        with session_scope(self.db) as session:
            row = session.get(AudioRow, key)
            audio = _audio(row, self.audio_dir) if row is not None else None
        return audio if audio and audio.path.is_file() else None

    def render(self, text: str) -> Rendered:
        """Return cached audio for ``text``, or make and store it; failed if no engine can.

        Engines are tried in order of preference, so audio a fallback engine made while a
        better one was failing is made again with the better one when it works.
        """
        reasons: list[str] = []
        for engine in self.engines:
            existing = self._cached_by(text, engine)
            if existing is not None:
                return Rendered(REUSED, existing, tuple(reasons))
            reason = engine.unavailable_reason()
            if reason is None:
                try:
                    return Rendered(NEW, self._store(engine, text), tuple(reasons))
                except EngineError as error:
                    reason = str(error)
                    log.warning(
                        "speech: %s failed, trying the next engine: %s", engine.name, reason
                    )
                except Exception as error:  # an engine must never break a caller
                    log.exception("speech: %s failed unexpectedly", engine.name)
                    reason = f"{engine.name} failed: {error!r}"
            reasons.append(reason)
        if not self.engines:
            reasons.append("no speech engine is configured (SPEECH_ENGINES)")
        log.warning("speech: no audio for %r: %s", text[:60], "; ".join(reasons))
        return Rendered(FAILED, None, tuple(reasons))

    def _cached_by(self, text: str, engine: SpeechEngine) -> Audio | None:
        return self.by_key(audio_key(text, self.language, engine.voice, engine.name))

    def _store(self, engine: SpeechEngine, text: str) -> Audio:
        """Make the audio, write it to disk atomically, then index it."""
        data = engine.synthesise(text, self.language)
        key = audio_key(text, self.language, engine.voice, engine.name)
        self.audio_dir.mkdir(parents=True, exist_ok=True)
        path = self.audio_dir / f"{key}.{engine.extension}"
        with tempfile.NamedTemporaryFile(dir=self.audio_dir, suffix=".part", delete=False) as f:
            f.write(data)
        os.replace(f.name, path)
        try:
            with session_scope(self.db) as session:
                row = session.get(AudioRow, key) or AudioRow(key=key)
                row.engine, row.language, row.voice, row.text = (
                    engine.name, self.language, engine.voice, text,
                )  # fmt: skip
                row.filename, row.content_type = path.name, engine.content_type
                row.size = len(data)
                session.add(row)
        except IntegrityError:  # another worker indexed the same audio a moment ago
            log.debug("speech: %s was indexed by another worker", path.name)
        log.info("speech: made %s with %s (%d bytes)", path.name, engine.name, len(data))
        return Audio(key, engine.name, text, path, engine.content_type)


def erase_audio(session: Session, target: ErasureTarget) -> int:
    """Delete audio of replies that name the person's cases (their status, staff's
    messages to them); the files go once the database has committed. Other reply audio
    is the same for everyone who asked the same thing, and holds nothing of theirs."""
    if not target.references:
        return 0
    mentions = or_(*(AudioRow.text.contains(ref) for ref in target.references))
    rows = session.scalars(select(AudioRow).where(mentions)).all()
    if target.audio_dir is not None:
        target.files.extend(target.audio_dir / str(row.filename) for row in rows)
    session.execute(
        delete(AudioRow)
        .where(AudioRow.key.in_([row.key for row in rows]))
        .execution_options(synchronize_session=False)
    )
    return len(rows)


def expire_audio(session: Session, run: RetentionRun) -> int:
    """Delete reply audio made before the cutoff; keep the fixed texts' audio. Only when
    the run names the audio folder (and so the fixed texts)."""
    if run.audio_dir is None:
        return 0
    old = session.scalars(select(AudioRow).where(AudioRow.created_at < run.cutoff)).all()
    gone = [row for row in old if row.text not in run.keep_texts]
    run.files.extend(run.audio_dir / str(row.filename) for row in gone)
    session.execute(
        delete(AudioRow)
        .where(AudioRow.key.in_([row.key for row in gone]))
        .execution_options(synchronize_session=False)
    )
    return len(gone)
