"""Case references a person can read out on the phone: ``TW-7K3QXZ``.

The alphabet (31 characters) has no 0/O, 1/I or L, so nothing is ambiguous when spoken or
handwritten.
A reference is an affine permutation of the case's database id, so two cases never
share one (for the first 31**6, about 887 million, cases) and ids cannot be guessed in order.
"""

from __future__ import annotations

import re

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6
SPACE = len(ALPHABET) ** LENGTH
MULTIPLIER = 387_420_489  # 3**18: coprime with len(ALPHABET)**LENGTH, so a bijection
OFFSET = 104_729
PREFIX = "TW"
REFERENCE_RE = re.compile(rf"\b{PREFIX}[\s-]?([{ALPHABET}]{{{LENGTH}}})\b", re.IGNORECASE)


def reference_for(case_id: int) -> str:
    """The reference of case ``case_id`` (1, 2, 3, ... map to unrelated-looking codes)."""
    if not 0 < case_id < SPACE:
        raise ValueError(f"case id {case_id} is out of range")
    value = (case_id * MULTIPLIER + OFFSET) % SPACE
    chars = []
    for _ in range(LENGTH):
        value, digit = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return f"{PREFIX}-{''.join(reversed(chars))}"


def find_reference(text: str) -> str | None:
    """A reference typed or said in ``text`` ("tw 7k3qxz" -> "TW-7K3QXZ"), if any."""
    found = REFERENCE_RE.search(text)
    if not found:
        return None
    return f"{PREFIX}-{found.group(1).upper()}"
