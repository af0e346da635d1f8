"""Which of our four languages a text is in, or ``other``.

The four languages sit in three scripts, so counting letters per script settles Greek and Russian;
Latin-script text is told apart by distinctive letters and very common function words. That is
instant, needs no model, and holds up on tweets and one-line reviews where statistical detectors
are least sure.
"""

from __future__ import annotations

import re
from typing import Literal

DetectedLanguage = Literal["en", "el", "ru", "pl", "other"]

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_URL_OR_HANDLE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")

# Letters that only one of the Cyrillic languages uses.
_NOT_RUSSIAN_CYRILLIC = set("іїєґўјљњћџѓќ")
_POLISH_LETTERS = set("ąćęłńśźż")
_OTHER_LATIN_LETTERS = set("äöüßàâçèêëîïôùûÿñãõåæøğşıřůěťďňľĺŕő")


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _vocabulary(
        "the and is are was were to of it this that my i you for not with have has on at be "
        "but they we me your our an so no very just would will can all from what when"
    ),
    "pl": _vocabulary(
        "i w z na nie się że to jest jak do co po ale za od tak mi mnie bardzo był była było "
        "jestem tylko ze już czy też jego pan pani lekarz oraz przez dla który która"
    ),
    # German, French, Spanish, Italian, Portuguese, Dutch: enough to tell them from en and pl.
    "other": _vocabulary(
        "der die das und ist nicht ich mit sie ein eine zu auf für "
        "le la les et est pas je une des du que qui pour avec dans "
        "el los las y es muy pero por una con para como del "
        "il di che non sono per gli della ho "
        "não uma com muito os da em "
        "het een en niet ik van dat zijn met voor"
    ),
}


def _script_counts(text: str) -> tuple[int, int, int, int]:
    greek = cyrillic = latin = other = 0
    for letter in _LETTER.findall(text):
        code = ord(letter)
        if 0x0370 <= code <= 0x03FF or 0x1F00 <= code <= 0x1FFF:
            greek += 1
        elif 0x0400 <= code <= 0x052F:
            cyrillic += 1
        elif code < 0x0250 or 0x1E00 <= code <= 0x1EFF:
            latin += 1
        else:
            other += 1
    return greek, cyrillic, latin, other


def _latin_language(text: str) -> DetectedLanguage:
    lowered = text.casefold()
    words = _WORD.findall(lowered)
    scores = {
        name: sum(word in vocabulary for word in words)
        for name, vocabulary in _FUNCTION_WORDS.items()
    }
    scores["pl"] += 2 * sum(ch in _POLISH_LETTERS for ch in lowered)
    scores["other"] += 2 * sum(ch in _OTHER_LATIN_LETTERS for ch in lowered)
    best = max(scores, key=lambda name: scores[name])
    if scores[best] == 0:
        return "en"  # Short Latin text with no clues: English is by far the likeliest.
    return best  # type: ignore[return-value]


def detect_language(text: str) -> DetectedLanguage:
    """The language of a review; ``other`` when it is none of en, el, ru, pl or has no words."""
    text = _URL_OR_HANDLE.sub(" ", text)
    greek, cyrillic, latin, other = _script_counts(text)
    total = greek + cyrillic + latin + other
    if total == 0:
        return "other"
    if greek >= max(cyrillic, latin, other):
        return "el"
    if cyrillic >= max(latin, other):
        lowered = text.casefold()
        return "other" if any(ch in _NOT_RUSSIAN_CYRILLIC for ch in lowered) else "ru"
    if latin >= other:
        return _latin_language(text)
    return "other"
