"""Messages in other languages: detect the language offline, and answer in it.

Detection uses lingua-language-detector, limited to English and the languages in
``data/translations.yml``, so it is quick and does not guess at languages we cannot
answer in. It only says "not English" when it is sure and the message is long enough:
short texts ("ok", "ta", "hiya") are always read as English. The replies are marked as
awaiting review by a qualified translator.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

TRANSLATIONS_FILE = Path(__file__).resolve().parents[1] / "data" / "translations.yml"
MIN_LETTERS = 12  # a Latin-script message needs this many letters ...
MIN_WORDS = 3  # ... and this many words before we believe it is not English
MIN_CONFIDENCE = 0.8
MIN_SCRIPT_LETTERS = 3  # letters in another script (Arabic, Gurmukhi ...) say enough sooner


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    lingua: str
    reply: str
    crisis_words: tuple[str, ...]


@dataclass(frozen=True)
class Translations:
    status: str
    english: str
    languages: dict[str, Language]

    def by_lingua(self, name: str) -> Language | None:
        return next((lang for lang in self.languages.values() if lang.lingua == name), None)


def load_translations(path: Path = TRANSLATIONS_FILE) -> Translations:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    languages = {
        str(code): Language(
            code=str(code),
            name=str(body["name"]),
            lingua=str(body["lingua"]),
            reply=" ".join(str(body["reply"]).split()),
            crisis_words=tuple(str(w).lower() for w in body.get("crisis_words") or ()),
        )
        for code, body in (data.get("languages") or {}).items()
    }
    return Translations(str(data.get("status") or ""), " ".join(str(data["english"]).split()),
                        languages)  # fmt: skip


@lru_cache(maxsize=1)
def translations() -> Translations:
    return load_translations()


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language as LinguaLanguage
    from lingua import LanguageDetectorBuilder

    names = ["ENGLISH", *(lang.lingua for lang in translations().languages.values())]
    chosen = [getattr(LinguaLanguage, name) for name in names]
    # Models loaded once, up front (about 250 MB, a few seconds): high accuracy, so short
    # English messages are not mistaken for another language, and no slow first message.
    return LanguageDetectorBuilder.from_languages(*chosen).with_preloaded_language_models().build()


def warm_up() -> None:
    """Load the language models now (the Rasa server does this as it starts)."""
    detect("Dzień dobry, potrzebuję pomocy dla mojego syna")


def _letters(text: str) -> tuple[int, int]:
    """(all letters, letters outside the Latin script)."""
    letters = [c for c in text if c.isalpha()]
    other = [c for c in letters if not unicodedata.name(c, "LATIN").startswith("LATIN")]
    return len(letters), len(other)


def detect(text: str) -> Language | None:
    """The language of ``text`` when it is one we answer in and not English; else None."""
    text = text.strip()
    if not text or text.startswith("/"):
        return None
    letters, other_script = _letters(text)
    words = len(re.findall(r"\w+", text))
    if other_script < MIN_SCRIPT_LETTERS and (letters < MIN_LETTERS or words < MIN_WORDS):
        return None
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    if best.language.name == "ENGLISH" or best.value < MIN_CONFIDENCE:
        return None
    return translations().by_lingua(best.language.name)


def in_danger(language: Language, text: str) -> bool:
    """True when the message has a word that, in its language, means someone is at risk."""
    lowered = text.lower()
    return any(word in lowered for word in language.crisis_words)


def reply_text(language: Language, phone: str) -> str:
    """The reply in the person's language, then the same in English for anyone helping."""
    own = language.reply.format(phone=phone)
    return f"{own}\n{translations().english.format(phone=phone)}"  # one message, not two
