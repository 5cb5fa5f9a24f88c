"""The audio guide: one recording per need group, spoken easy read, with an index.

The words of each part (:func:`guide_parts`) are made into audio through the phone line's
own speech cache (gTTS, else espeak-ng offline), so the phone line can play the very same
files ("press 8 for the Who's Who"). The published copies are named by part
(``03-changes-to-your-home.mp3``). espeak's WAV is turned into MP3 with ``lame`` where it
is installed, so the files play on any phone; without ``lame`` the WAV is published.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import wave
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.directory.records import Entry
from bot.publish.content import (
    Guide,
    Section,
    ages,
    checker,
    emergency_contacts,
    how_to_get_help,
    is_mobile,
)
from bot.speech.audio import mp3_frame_length
from bot.speech.cache import FAILED, SpeechCache
from bot.speech.text import speech_text

log = logging.getLogger(__name__)
INTRODUCTION = "introduction"
SAMPLE_SPOKEN = "These contacts are sample data. They are made up for testing."
LAME_TIMEOUT = 120.0


@dataclass(frozen=True)
class GuidePart:
    """One recording: its number, the need it is about, its title and its words."""

    number: int
    key: str
    title: str
    text: str

    @property
    def spoken(self) -> str:
        """The words as the speech engines read them (numbers in digit groups, ...)."""
        return " ".join(speech_text(self.text, drop_menus=False).splitlines())

    @property
    def slug(self) -> str:
        words = re.sub(r"[^a-z0-9]+", "-", self.title.lower().replace("'", "")).strip("-")
        return f"{self.number:02d}-{words[:48].rstrip('-')}"


@dataclass(frozen=True)
class Recording:
    """A published recording of one part."""

    part: GuidePart
    path: Path
    seconds: float
    engine: str


def _entry_words(entry: Entry) -> list[str]:
    """An entry as it is read out: short sentences, a phone number said twice."""
    summary = entry.summary if entry.summary.endswith((".", "!", "?")) else entry.summary + "."
    lines = [f"{entry.name}.", summary, f"{ages(entry)}."]
    if entry.phone:
        lines.append(f"Call {entry.phone}. That is {entry.phone}.")
        if is_mobile(entry.phone):
            lines.append("You can send a text to that number too.")
    if entry.email:
        lines.append(f"Email {entry.email}.")
    if entry.web:
        lines.append("They have a website too.")
    if entry.hours:
        lines.append(f"Open {entry.hours.rstrip('.')}.")
    refer = how_to_get_help(entry)
    if refer:
        lines.append(refer)
    if entry.last_checked is not None:
        who = f" by {checker(entry)}" if entry.checked_by else ""
        lines.append(f"Checked in {entry.last_checked:%B %Y}{who}.")
    return lines


def section_text(section: Section, sample_data: bool) -> str:
    """The words of one need group's recording: everyone who helps, in full."""
    helpers = section.helpers
    count = "One service can help." if len(helpers) == 1 else f"{len(helpers)} services can help."
    lines = [f"{section.need.label}.", count]
    for number, entry in enumerate(helpers, start=1):
        lines.append(f"Number {number}.")
        lines += _entry_words(entry)
    if sample_data:
        lines.append(SAMPLE_SPOKEN)
    return "\n".join(lines)


def introduction_text(guide: Guide) -> str:
    """The first recording: what the guide is, the emergency numbers, how it goes on."""
    lines = [
        f"This is the Who's Who for {guide.area_name}.",
        "It says who can help families of children with SEND.",
        "SEND means special educational needs and disabilities.",
        f"There are {len(guide.sections)} topics, from A to Z.",
        "Each recording is one topic.",
    ]
    if guide.sample_data:
        lines.append(SAMPLE_SPOKEN)
    lines += [c.sentence for c in emergency_contacts(guide.front_door)]
    return "\n".join(lines)


def guide_parts(guide: Guide) -> list[GuidePart]:
    """The introduction, then one part per need group, in the guide's order (A to Z)."""
    parts = [
        GuidePart(0, INTRODUCTION, "Introduction and emergency numbers", introduction_text(guide))
    ]
    for number, section in enumerate(guide.sections, start=1):
        text = section_text(section, guide.sample_data)
        parts.append(GuidePart(number, section.need.key, section.need.label, text))
    return parts


# --- how long a recording plays ------------------------------------------------------

_SAMPLE_RATES = {
    0b11: (44100, 48000, 32000),
    0b10: (22050, 24000, 16000),
    0b00: (11025, 12000, 8000),
}


def mp3_seconds(data: bytes) -> float:
    """How long MP3 ``data`` plays: the sum of its frames' samples over their sample rate."""
    offset, seconds = 0, 0.0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = data[6:10]
        offset = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    while offset < len(data):
        header = data[offset : offset + 4]
        length = mp3_frame_length(header)
        if length is None:
            break
        version = (header[1] >> 3) & 0b11
        rate = _SAMPLE_RATES[version][(header[2] >> 2) & 0b11]
        seconds += (1152 if version == 0b11 else 576) / rate
        offset += length
    return seconds


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


def seconds_of(path: Path) -> float:
    """How long the recording at ``path`` (MP3 or WAV) plays."""
    if path.suffix == ".wav":
        return wav_seconds(path)
    return mp3_seconds(path.read_bytes())


def to_mp3(source: Path, target: Path, lame: str) -> bool:
    """Encode a WAV file as MP3 (speech quality); False, with the reason logged, if not."""
    try:
        subprocess.run(
            [lame, "--quiet", "-V", "6", str(source), str(target)],
            capture_output=True, timeout=LAME_TIMEOUT, check=True,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as error:
        log.warning("audio guide: lame could not encode %s: %s", source.name, error)
        target.unlink(missing_ok=True)
        return False
    return True


def render_guide(
    cache: SpeechCache, parts: Sequence[GuidePart], folder: Path, lame: str | None = None
) -> tuple[list[Recording], list[tuple[GuidePart, str]]]:
    """Make (or reuse) each part's audio in ``cache`` and publish a copy in ``folder``.

    Returns the recordings and the parts that could not be made, with the reasons.
    ``lame`` is the MP3 encoder for WAV audio (default: ``lame`` on the PATH, if any).
    """
    lame = lame if lame is not None else shutil.which("lame") or ""
    folder.mkdir(parents=True, exist_ok=True)

    def publish(part: GuidePart) -> Recording | str:
        """Make the part's audio (or find it made) and publish a copy; else why not."""
        result = cache.render(part.spoken)
        if result.status == FAILED or result.audio is None:
            return "; ".join(result.reasons) or "no speech engine worked"
        source, engine = result.audio.path, result.audio.engine
        target = folder / f"{part.slug}{source.suffix}"
        if source.suffix == ".wav" and lame:
            mp3 = target.with_suffix(".mp3")
            if to_mp3(source, mp3, lame):
                target.unlink(missing_ok=True)
                return Recording(part, mp3, seconds_of(mp3), engine)
        shutil.copyfile(source, target)
        target.with_suffix(".mp3" if source.suffix == ".wav" else ".wav").unlink(missing_ok=True)
        return Recording(part, target, seconds_of(target), engine)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="audio-guide") as pool:
        outcomes = list(pool.map(publish, parts))
    recordings = [o for o in outcomes if isinstance(o, Recording)]
    failed = [(p, o) for p, o in zip(parts, outcomes, strict=True) if isinstance(o, str)]
    return recordings, failed


def playlist(recordings: Sequence[Recording]) -> str:
    """An extended M3U playlist of the recordings, in order."""
    lines = ["#EXTM3U"]
    for recording in recordings:
        lines += [f"#EXTINF:{round(recording.seconds)},{recording.part.title}", recording.path.name]
    return "\n".join(lines) + "\n"
