"""Make the audio for every fixed text ahead of time, so callers hear it without waiting.

Covers the responses in ``domain.yml``, each directory entry as the signposting reply
reads it (name, summary, how to contact), the emergency reply, and the phone line's own
prompts and keypad menu. Anything else is made in the background the first time it is said.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.engine import Engine
from tqdm import tqdm

from bot.config import Settings
from bot.directory.records import Directory
from bot.directory.render import signpost_text
from bot.directory.store import load_directory
from bot.directory.topics import FRONT_DOOR_KEY
from bot.safety import CATEGORY_KEYS, emergency_text
from bot.safety.followup import PARTS as FOLLOWUP_PARTS
from bot.speech import phrases
from bot.speech.cache import FAILED, NEW, REUSED, SpeechCache
from bot.speech.config import SpeechSettings, load_speech_settings
from bot.speech.engines import build_engines
from bot.speech.text import speech_segments

# The local safeguarding front door named in the emergency reply (actions/safety.py).


@dataclass(frozen=True)
class Report:
    """How many pieces were made now, found already made, or could not be made (and why)."""

    new: int
    reused: int
    failed: int
    failures: tuple[tuple[str, str], ...] = ()

    @property
    def total(self) -> int:
        return self.new + self.reused + self.failed


def domain_texts(domain_path: Path) -> list[str]:
    """Every fixed response text in a Rasa domain file, all variations."""
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    texts: list[str] = []
    for variations in (domain.get("responses") or {}).values():
        texts += [str(v["text"]) for v in variations or () if isinstance(v, dict) and v.get("text")]
    return texts


def directory_texts(directory: Directory) -> list[str]:
    """Each entry as the signposting reply says it, the emergency reply and the keypad menu."""
    texts = [signpost_text([entry]) for entry in directory.entries]
    if len(directory.entries) > 1:
        texts.append(signpost_text(directory.entries[:2]))  # "These can help:"
    front_door, lado = directory.entry(FRONT_DOOR_KEY), directory.entry("lado")
    texts += [emergency_text(front_door), emergency_text(None)]
    # Each safeguarding category's reply and the safeguarding follow-ups (bot.safety).
    texts += [emergency_text(front_door, key, lado=lado) for key in CATEGORY_KEYS]
    texts += ["\n".join(lines) for lines in FOLLOWUP_PARTS.values()]
    labels = [n.label for key in phrases.VOICE_MENU_TOPICS if (n := directory.need(key))]
    texts.append(phrases.keypad_menu_text(labels))
    return texts


def pieces(texts: Iterable[str]) -> list[str]:
    """The distinct speech pieces of ``texts``, in first-seen order."""
    return list(dict.fromkeys(p for text in texts for p in speech_segments(text)))


def fixed_pieces(engine: Engine, domain_path: Path) -> list[str]:
    """Every piece of fixed speech: the phone's prompts, the domain's responses, the directory."""
    texts = [*phrases.PROMPTS, *domain_texts(domain_path), *directory_texts(load_directory(engine))]
    return pieces(texts)


def prerender(
    engine: Engine,
    settings: Settings,
    domain_path: Path,
    speech_settings: SpeechSettings | None = None,
    progress: bool = True,
) -> Report:
    """Render every fixed text into ``settings.audio_dir``; return new / reused / failed."""
    speech = speech_settings or load_speech_settings()
    cache = SpeechCache(engine, settings.audio_dir, build_engines(speech), speech.language)
    counts = {NEW: 0, REUSED: 0, FAILED: 0}
    failures: list[tuple[str, str]] = []
    for piece in tqdm(
        fixed_pieces(engine, domain_path), desc="speech", unit="piece", disable=not progress
    ):
        outcome = cache.render(piece)
        counts[outcome.status] += 1
        if outcome.status == FAILED:
            failures.append((piece, "; ".join(outcome.reasons)))
    return Report(counts[NEW], counts[REUSED], counts[FAILED], tuple(failures))
