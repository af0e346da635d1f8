"""One folding of text for every comparison we make: lower case, no accents, 'ł' as 'l',
typographic apostrophes as plain ones ("won’t" is "won't").

Greek reviews drop their accents as often as they keep them, Polish ones their ogonki; folding
makes 'Καθυστέρηση' equal 'καθυστερηση' and 'żółć' equal 'zolc'.
"""

from __future__ import annotations

import unicodedata

# Characters folded to another one that NFKD leaves alone.
_SAME_AS = {"ł": "l", "’": "'", "‘": "'", "ʼ": "'"}
_TRANSLATION = str.maketrans(_SAME_AS)


def fold(text: str) -> str:
    """Case- and accent-free form of a text; equal to ``folded_with_positions(text)[0]``."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return kept.casefold().translate(_TRANSLATION)


def folded_with_positions(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, the index of its source character."""
    chars: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(piece):
                continue
            for letter in piece.casefold():
                chars.append(_SAME_AS.get(letter, letter))
                positions.append(index)
    return "".join(chars), positions
