"""Read answers the way people give them: "5", "five", "really good", "meh", a thumbs up."""

from __future__ import annotations

import re

from bot.text import normalise

RATING_WORDS: dict[int, tuple[str, ...]] = {
    5: (
        "5",
        "five",
        "excellent",
        "brilliant",
        "amazing",
        "fantastic",
        "really good",
        "very good",
        "great",
        "perfect",
        "loved it",
        "outstanding",
        "superb",
        "5 stars",
    ),
    4: ("4", "four", "good", "pretty good", "helpful", "quite good", "fine thanks", "decent"),
    3: (
        "3",
        "three",
        "ok",
        "okay",
        "alright",
        "all right",
        "fine",
        "average",
        "meh",
        "so so",
        "not bad",
        "mixed",
        "could be better",
    ),
    2: ("2", "two", "poor", "not good", "not great", "bad", "unhelpful", "not very good"),
    1: (
        "1",
        "one",
        "terrible",
        "awful",
        "rubbish",
        "useless",
        "very bad",
        "really bad",
        "horrible",
        "dreadful",
        "shocking",
        "worst",
        "appalling",
        "a joke",
    ),
}
EMOJI_RATINGS = {
    "\U0001f44d": 4,
    "\U0001f44e": 2,
    "\U0001f600": 5,
    "\U0001f642": 4,
    "\U0001f610": 3,
    "\U0001f641": 2,
    "\U0001f620": 1,
    "\U0001f621": 1,
    "\u2764": 5,
    "\U0001f60a": 5,
    "\U0001f622": 1,
    "\U0001f61e": 2,
}
YES_WORDS = (
    "yes",
    "yeah",
    "yep",
    "yup",
    "y",
    "ok",
    "okay",
    "sure",
    "please",
    "yes please",
    "go on",
    "ye",
    "aye",
    "definitely",
    "of course",
)
NO_WORDS = (
    "no",
    "nope",
    "nah",
    "n",
    "no thanks",
    "no thank you",
    "not really",
    "dont",
    "rather not",
    "no need",
    "anonymous",
    "stay anonymous",
    "keep me anonymous",
)
CANCEL_WORDS = (
    "exit",
    "back",
    "go back",
    "take me back",
    "leave",
    "leave this",
    "get me out of this",
    "stop",
    "cancel",
    "quit",
    "never mind",
    "nevermind",
    "forget it",
    "exit",
    "leave it",
    "i dont want to",
    "dont want to",
)

_STAR = re.compile(r"^\s*([1-5])\s*(?:/\s*5|out of 5|stars?)?\s*[.!]?\s*$", re.IGNORECASE)


def parse_rating(text: str) -> int | None:
    """A rating from 1 (very bad) to 5 (very good), or None if the answer is unclear."""
    for emoji, score in EMOJI_RATINGS.items():
        if emoji in text:
            return score
    star = _STAR.match(text)
    if star:
        return int(star.group(1))
    plain = normalise(text)
    if not plain:
        return None
    best: tuple[int, int] | None = None  # (length of matched phrase, score)
    for score, words in RATING_WORDS.items():
        for word in words:
            if re.search(rf"\b{re.escape(word)}\b", plain) and (
                best is None or len(word) > best[0]
            ):
                best = (len(word), score)
    return best[1] if best else None


def _matches(text: str, words: tuple[str, ...]) -> bool:
    plain = normalise(text)
    return plain in words or any(plain.startswith(w + " ") for w in words if " " not in w)


def parse_yes_no(text: str) -> bool | None:
    """True for yes, False for no, None when unclear."""
    if _matches(text, NO_WORDS):
        return False
    if _matches(text, YES_WORDS):
        return True
    return None


def is_cancel(text: str) -> bool:
    """True when someone wants to leave what they are doing ("exit", "back", "never mind").
    Prompts only ever say "exit": on SMS, STOP and CANCEL are carrier opt-out keywords."""
    plain = normalise(text)
    return plain in CANCEL_WORDS or plain.startswith(("stop ", "cancel "))


_LEAVING = re.compile(
    r"\b(?:stop|cancel|quit|exit|leave|back|forget|never ?mind|changed? (?:my|our) mind|abort|"
    r"scrap|dont want|do not want|get me out|enough|no more)\b"
)


def wants_to_leave(text: str) -> bool:
    """True when words anywhere in ``text`` are about leaving ("can we stop", "scrap that")."""
    return bool(_LEAVING.search(normalise(text)))
