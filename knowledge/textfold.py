"""One folding of text for every comparison we make: lower case, no accents, 'ł' as 'l',
typographic apostrophes as plain ones ("won’t" is "won't").

Greek reviews drop their accents as often as they keep them, Polish ones their ogonki; folding
makes 'Καθυστέρηση' equal 'καθυστερηση' and 'żółć' equal 'zolc'.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

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


class _FoldTable(dict[int, str]):
    """A str.translate table holding each character's folded form, worked out the first time
    the character is seen: folding is then one pass in C instead of a Python loop per character.
    Characters that do not fold to exactly one character are noted, since they shift positions.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reshaping: set[str] = set()

    def __missing__(self, code: int) -> str:
        char = chr(code)
        kept = "".join(
            part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part)
        )
        folded = kept.casefold().translate(_TRANSLATION)
        if len(folded) != 1:
            self.reshaping.add(char)
        self[code] = folded
        return folded


_FOLDED = _FoldTable()


def fold(text: str) -> str:
    """Case- and accent-free form of a text; equal to ``folded_with_positions(text)[0]``."""
    return text.translate(_FOLDED)


@lru_cache(maxsize=256)
def folded_with_positions(text: str) -> tuple[str, Sequence[int]]:
    """The folded text and, for each folded character, the index of its source character.

    Cached: one review is matched against a few dozen lexicon entries, tone lists and flags.
    Most texts fold character for character, and their positions are simply 0, 1, 2..."""
    folded = text.translate(_FOLDED)
    if _FOLDED.reshaping.isdisjoint(text):
        return folded, range(len(text))
    pieces = [_FOLDED[ord(char)] for char in text]
    positions = tuple(index for index, piece in enumerate(pieces) for _ in piece)
    return folded, positions
