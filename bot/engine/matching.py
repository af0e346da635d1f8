"""Phrase matching for the lexicons: accent- and case-insensitive, prefix per word.

An entry ``посылк пришл`` matches "посылка пришла" and "посылку пришлют": each entry word must
start a word of the text, in order, with only punctuation or spaces between. Matches map back to
the original text, so excerpts show the seller's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.textfold import fold, folded_with_positions

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True)
class Match:
    entry: str
    start: int  # in the original text
    end: int


class PhraseMatcher:
    """All entries of one category compiled into a single regular expression."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.entries = sorted({fold(entry).strip() for entry in entries if entry.strip()})
        alternatives = [self._pattern(entry) for entry in self.entries]
        self._regex = (
            re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + ")") if alternatives else None
        )

    @staticmethod
    def _pattern(entry: str) -> str:
        tokens = re.findall(r"\w+|[^\w\s]", entry)
        pattern = ""
        for position, token in enumerate(tokens):
            is_word = token[-1].isalnum()
            if position:
                # Words need a gap between them; punctuation may stick to its neighbour ("10%").
                previous_is_word = tokens[position - 1][-1].isalnum()
                pattern += r"[\W_]+" if is_word and previous_is_word else r"[\W_]*"
            pattern += re.escape(token) + (r"\w*" if is_word else "")
        return pattern

    def find(self, text: str) -> list[Match]:
        if self._regex is None:
            return []
        folded, positions = folded_with_positions(text)
        found = []
        for hit in self._regex.finditer(folded):
            if hit.end() == hit.start():
                continue
            found.append(Match(hit.group(0), positions[hit.start()], positions[hit.end() - 1] + 1))
        return found

    def matches(self, text: str) -> bool:
        return bool(self.find(text))
