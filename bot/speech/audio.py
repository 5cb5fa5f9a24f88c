"""Recognise the audio an engine returned, so an error page is never cached as speech."""

from __future__ import annotations

# Bit rates (kbit/s) and sample rates for MPEG audio layer III, by MPEG version.
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}
_VERSIONS = {0b11: 1, 0b10: 2, 0b00: 25}


def mp3_frame_length(header: bytes) -> int | None:
    """The length in bytes of the MPEG layer III frame starting with ``header``, if valid."""
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
        return None
    version = _VERSIONS.get((header[1] >> 3) & 0b11)
    layer = (header[1] >> 1) & 0b11
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 0b11
    if version is None or layer != 0b01 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    bitrate = _BITRATES[1 if version == 1 else 2][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    return (144 if version == 1 else 72) * bitrate // sample_rate + padding


def mp3_frames(data: bytes) -> int:
    """How many consecutive MP3 frames ``data`` holds (0 if it does not start with one)."""
    offset = 0
    if data[:3] == b"ID3" and len(data) >= 10:  # skip an ID3v2 tag
        size = data[6:10]
        offset = 10 + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
    frames = 0
    while offset < len(data):
        length = mp3_frame_length(data[offset : offset + 4])
        if length is None:
            break
        frames, offset = frames + 1, offset + length
    return frames


def audio_kind(data: bytes) -> str | None:
    """ "mp3" or "wav" when ``data`` is audio of that kind, otherwise None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) > 44:
        return "wav"
    if mp3_frames(data) >= 2:
        return "mp3"
    return None
