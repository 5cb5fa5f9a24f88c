"""Who is writing and about whom: a young person about themselves, or a parent carer about
a child; and whether a message is about another child than the one before.

Pure rules on the words. ``speaker_of`` gives ``young_person`` for "I'm 17 and ...", "im 19",
"I am autistic and at college"; ``parent`` for "my son", "she's 3", "my 5 year old".
"""

from __future__ import annotations

import re

from bot.text import normalise

YOUNG_PERSON, PARENT = "young_person", "parent"
YOUNG_PERSON_MIN_AGE = 11

_SELF_AGE = re.compile(
    r"\b(?:im|i am|i m|iam)(?: only| just| now| nearly| almost)? (\d{1,2})\b"
    r"(?! (?:weeks|months|days|times|mins|minutes|hours|miles|kids|children))"
)
_SELF = re.compile(
    r"\b(?:im|i am|i m) (?:a |an )?(?:young person|student|autistic|disabled|deaf|blind|in year"
    r" (?:7|8|9|10|11|12|13)|at (?:college|uni|university|sixth form)|a young carer|a teenager"
    r"|a care leaver)\b|\bmy (?:college|course|uni|apprenticeship|pip|social worker|pa|ehcp)\b"
)
_PARENT = re.compile(
    r"\b(?:my|our) (?:son|daughter|child|kid|kids|children|boy|girl|little one|lad|ds|dd|"
    r"grandson|granddaughter|toddler|baby|foster child|\d{1,2} ?(?:yr|year|years|yo)(?: old)?)\b|"
    r"\b(?:hes|shes|he is|she is|they are) (?:\d{1,2}|only \d{1,2})\b|\bmy other\b"
)
_OTHER_CHILD = re.compile(
    r"\b(?:my|our) (?:other|older|younger|eldest|oldest|youngest|middle|second|first|"
    r"little|big) (?:one|son|daughter|child|kid|boy|girl|lad)\b|"
    r"\b(?:another|a different) (?:child|one|son|daughter|kid)\b|"
    r"\b(?:his|her|their) (?:brother|sister|sibling|twin)\b|\b(?:for|about) my (?:brother|sister)\b"
)


def speaker_of(text: str) -> str | None:
    """``young_person`` when they write about themselves as a young person, ``parent`` when
    about a child, else None (nothing said)."""
    plain = normalise(text)
    age = _SELF_AGE.search(plain)
    if age and YOUNG_PERSON_MIN_AGE <= int(age.group(1)) <= 25:
        return YOUNG_PERSON
    if _PARENT.search(plain):
        return PARENT
    if _SELF.search(plain):
        return YOUNG_PERSON
    return None


def about_another_child(text: str) -> bool:
    """True when the message is about a different child than before ("my other son")."""
    return bool(_OTHER_CHILD.search(normalise(text)))


_ABOUT_ME = re.compile(r"\b(?:me|myself)\b")
# "me" as the one told or asked, not the one harmed: "she won't tell me why", "help me"
_ME_ASKED = re.compile(r"\b(?:tell|tells|told|telling|show|ask|asks|asked|let|help) me\b")
_SOMEONE_ELSE = re.compile(
    r"\b(?:he|hes|she|shes|him|her|himself|herself|they|them|child|childs|children|kid|kids"
    r"|boy|boys|girl|girls|baby|son|sons|daughter|daughters|ds|dd|teenager|toddler|pupil"
    r"|pupils|grandson|granddaughter|neighbour|neighbours)\b"
)


def about_someone_else(text: str) -> bool:
    """True when the writer tells of another person (a child, "she", the kids next door)
    and never of themselves ("me", "myself"): a worried parent or neighbour, not a
    disclosure of their own."""
    plain = normalise(text)
    return bool(_SOMEONE_ELSE.search(plain)) and not _ABOUT_ME.search(_ME_ASKED.sub("", plain))
