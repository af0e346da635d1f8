"""Understanding a review: its language, what went wrong (aspects), what makes it risky (flags)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.engine.models import MAX_REVIEW_CHARS, Review
from bot.engine.personal_data import find_personal_data
from bot.errors import InputError
from knowledge.textfold import replace_surrogates

if TYPE_CHECKING:
    from bot.engine.language_pack import LanguagePacks


MAIN_ASPECT_PRIORITY = (
    "damaged_item",
    "wrong_item",
    "missing_item",
    "refund_problem",
    "billing_problem",
    "late_delivery",
    "not_as_described",
    "poor_quality",
    "no_response",
    "rude_service",
)
# A review this short that names no problem is a vague outburst: find out what happened first.
VAGUE_WORDS = 15
_LINKS = re.compile(r"https?://\S+|www\.\S+")


def validate_review_text(text: str) -> str:
    """The review's text, or a clear error when there is nothing (or far too much) to work with."""
    # Lone surrogates (a "\ud800" JSON escape from Telegram or a batch line) made the composer's
    # hash and lingua raise UnicodeEncodeError; the review goes on with U+FFFD in their place.
    stripped = replace_surrogates(text).strip()
    if not stripped:
        raise InputError("the review is empty; paste the customer's review text")
    if not any(char.isalpha() for char in _LINKS.sub(" ", stripped)):
        raise InputError(
            "the review has no words in it (only links, emoji or symbols); paste the review's text"
        )
    if len(stripped) > MAX_REVIEW_CHARS:
        raise InputError(
            f"the review is {len(stripped):,} characters long; the limit is {MAX_REVIEW_CHARS:,}. "
            "Paste the part that says what went wrong."
        )
    return stripped


def understand(text: str, packs: LanguagePacks) -> Review:
    text = validate_review_text(text)
    language = packs.detector.detect(text)
    pack = packs[language]
    counts = {aspect: len(matcher.find(text)) for aspect, matcher in pack.aspect_matchers().items()}
    # Most mentioned first; on a tie, the one the reply must face first (a broken item before
    # the delay that came with it, a concrete problem before a broad one).
    aspects = [aspect for aspect in MAIN_ASPECT_PRIORITY if counts.get(aspect)]
    aspects.sort(key=lambda aspect: -counts[aspect])
    flags = [flag for flag, matcher in pack.flag_matchers().items() if matcher.matches(text)]
    situations = [
        name for name, matcher in pack.situation_matchers().items() if matcher.matches(text)
    ]
    if aspects == [] and len(text.split()) <= VAGUE_WORDS:
        situations.append("vague")
    words = pack.personal_data_words
    personal_data = find_personal_data(text, words["order"], words["address"])
    if personal_data:
        flags.append("personal_data")
    return Review(
        text=text,
        language=language,
        aspects=aspects or ["other"],
        flags=flags,  # type: ignore[arg-type]
        personal_data=personal_data,
        situations=situations,
    )
