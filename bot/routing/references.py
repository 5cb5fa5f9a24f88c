"""Case references a person can read out on the phone: ``TW-7K3QXZ``.

The alphabet (31 characters) has no 0/O, 1/I or L, so nothing is ambiguous when spoken or
handwritten. A reference is six characters drawn at random from it by ``secrets`` (about
887 million possibilities), so knowing one reference tells nothing about any other. The
``cases.reference`` column is unique: a clash (rare) is caught there and drawn again.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
SPACE = len(ALPHABET) ** LENGTH
PREFIX = "TW"
REFERENCE_RE = re.compile(rf"\b{PREFIX}[\s-]?([{ALPHABET}]{{{LENGTH}}})\b", re.IGNORECASE)


def new_reference() -> str:
    """A fresh random reference, such as ``TW-7K3QXZ``."""
    return f"{PREFIX}-{''.join(secrets.choice(ALPHABET) for _ in range(LENGTH))}"


def find_reference(text: str) -> str | None:
    """A reference typed or said in ``text`` ("tw 7k3qxz" -> "TW-7K3QXZ"), if any."""
    found = REFERENCE_RE.search(text)
    if not found:
        return None
    return f"{PREFIX}-{found.group(1).upper()}"
