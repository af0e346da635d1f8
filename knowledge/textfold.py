"""One folding of text for every comparison we make: lower case, no accents, 'ł' as 'l',
typographic apostrophes as plain ones ("won’t" is "won't").

Greek reviews drop their accents as often as they keep them, Polish ones their ogonki; folding
makes 'Καθυστέρηση' equal 'καθυστερηση' and 'żółć' equal 'zolc'.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters folded to another one that NFKD leaves alone.
_SAME_AS = {"ł": "l", "’": "'", "‘": "'", "ʼ": "'"}
_TRANSLATION = str.maketrans(_SAME_AS)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """``text`` with each lone surrogate as U+FFFD. A JSON "\\ud800" escape (a Telegram update,
    a --batch line) gives Python a str that cannot be encoded as UTF-8, and hashing it, handing
    it to lingua (Rust) or printing it then raises UnicodeEncodeError (found by tests/test_fuzz.py).
    """
    return _LONE_SURROGATE.sub("\ufffd", text)


def fold(text: str) -> str:
    """Case- and accent-free form of a text; equal to ``folded_with_positions(text)[0]``."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return kept.casefold().translate(_TRANSLATION)


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    kept = "".join(p for p in unicodedata.normalize("NFKD", char) if not unicodedata.combining(p))
    return "".join(_SAME_AS.get(letter, letter) for letter in kept.casefold())


@lru_cache(maxsize=256)
def folded_with_positions(text: str) -> tuple[str, tuple[int, ...]]:
    """The folded text and, for each folded character, the index of its source character.

    Cached: one review is matched against a few dozen lexicon entries, tone lists and flags,
    and folding it each time was the largest single cost of understanding it."""
    pieces = [_fold_char(char) for char in text]
    positions = tuple(index for index, piece in enumerate(pieces) for _ in piece)
    return "".join(pieces), positions
