"""One folding of text for every comparison we make: lower case, no accents, 'ł' as 'l'.

Greek reviews drop their accents as often as they keep them, Polish ones their ogonki; folding
makes 'Καθυστέρηση' equal 'καθυστερηση' and 'żółć' equal 'zolc'.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Case- and accent-free form of a text; equal to ``folded_with_positions(text)[0]``."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(char for char in decomposed if not unicodedata.combining(char))
    return kept.casefold().replace("ł", "l")


def folded_with_positions(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, the index of its source character."""
    chars: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        for piece in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(piece):
                continue
            for letter in piece.casefold():
                chars.append("l" if letter == "ł" else letter)
                positions.append(index)
    return "".join(chars), positions
