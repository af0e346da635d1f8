"""Spotting personal data (order numbers, e-mails, phone numbers, street addresses) in text.

Used twice: to flag a review that contains it (take it private), and to make sure no reply
repeats it in public.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.engine.matching import fold, folded_with_positions

if TYPE_CHECKING:
    from collections.abc import Sequence

# The look-behind starts a match only where a run of name characters starts: without it, one
# 8,000-letter "word" was scanned from every position (quadratic, 0.25 s of a blocked event loop
# per review, found by tests/test_fuzz.py); the addresses found are the same.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 9 to 15 digits with the usual separators: long enough not to catch prices, dates or years.
_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[\s().-]{0,2}\d){8,14}(?!\w)")
# Payment cards: 13 to 19 digits, grouped or not. Longer than _PHONE allows, so a card written
# without spaces ("4276380012345678") was not found at all, and a grouped one only in part.
_CARD = re.compile(r"(?<![\w+])\d(?:[\s-]?\d){12,18}(?!\w)")
_HASH_NUMBER = re.compile(r"(?<!&)#\s?[A-Za-z]{0,3}-?\d{4,}\b")
# What may stand between "order" and its number ("No.", "nr", "№" folds to "no"), then the number.
_NUMBER_TOKEN = (
    r"(?:#|no\.?|nr\.?|number|numer|номер|αριθμ\w*|αρ\.?)?[\s:.#-]*[a-z]{0,3}-?\d[\w-]{3,}"
)
_HOUSE_NUMBER = r"\d{1,4}[a-z]?\b"


def _words_pattern(words: Sequence[str]) -> str:
    folded = sorted({re.escape(fold(word).strip()) for word in words if word.strip()}, key=len)
    return "(?:" + "|".join(reversed(folded)) + ")" if folded else r"(?!x)x"


@lru_cache(maxsize=16)
def _worded_patterns(
    order_words: tuple[str, ...], address_words: tuple[str, ...]
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """An order number and a street address, in one language's words (built once per
    language: every draft is checked for both)."""
    order = re.compile(r"(?<!\w)" + _words_pattern(order_words) + r"\w*[\s:]*" + _NUMBER_TOKEN)
    street = _words_pattern(address_words)
    address = re.compile(
        rf"(?<!\w){street}\w*\.?\s+(?:[^\W\d_]+\.?\s+){{0,3}}{_HOUSE_NUMBER}"
        rf"|\b{_HOUSE_NUMBER}\s+(?:[^\W\d_]+\s+){{1,3}}{street}\b"
    )
    return order, address


def find_personal_data(
    text: str, order_words: Sequence[str], address_words: Sequence[str]
) -> list[str]:
    """The personal-data snippets in ``text``, as they appear there."""
    found: list[str] = []
    found += _EMAIL.findall(text)
    found += [match.group(0) for match in _PHONE.finditer(text)]
    found += [match.group(0) for match in _CARD.finditer(text)]
    found += [match.group(0) for match in _HASH_NUMBER.finditer(text)]
    folded, positions = folded_with_positions(text)
    for pattern in _worded_patterns(tuple(order_words), tuple(address_words)):
        found += [
            text[positions[m.start()] : positions[m.end() - 1] + 1]
            for m in pattern.finditer(folded)
            if m.end() > m.start()
        ]
    return [snippet.strip() for snippet in dict.fromkeys(found) if snippet.strip()]


def leaked(reply: str, personal_data: Sequence[str]) -> list[str]:
    """Which of the review's personal-data snippets the reply repeats (digits compared bare)."""
    reply_digits = re.sub(r"\D", "", reply)
    folded_reply = fold(reply)
    leaks = []
    for snippet in personal_data:
        digits = re.sub(r"\D", "", snippet)
        if (len(digits) >= 4 and digits in reply_digits) or fold(snippet) in folded_reply:
            leaks.append(snippet)
    return leaks
