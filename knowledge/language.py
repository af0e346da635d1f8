"""Which of our four languages a text is in, or ``other``.

The four languages sit in three scripts, so counting letters per script settles Greek and Russian
(Ukrainian letters mark Cyrillic text as ``other``). Latin-script text is told apart first by
distinctive letters and very common function words; when those say nothing (a short, diacritic-free
"Stanowczo ODRADZAM"), lingua's n-gram models decide.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Literal

from knowledge.textfold import replace_surrogates

if TYPE_CHECKING:
    from lingua import LanguageDetector as LinguaDetector

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
        "the and is are was were to of it this that my you for not with have has on at be "
        "but they we me your our an so no very just would will can all from what when"
    ),
    "pl": _vocabulary(
        # No single letters: "i" is English too, "w/" an English abbreviation.
        "na nie się sie że to jest jak do co po ale za od tak mi mnie bardzo był była było byl "
        "byla bylo jestem tylko ze już juz czy też tez jego pan pani lekarz oraz przez dla "
        "który która ktory ktora zle źle"
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


def _function_word_scores(text: str) -> dict[str, int]:
    lowered = text.casefold()
    words = _WORD.findall(lowered)
    scores = {
        name: sum(word in vocabulary for word in words)
        for name, vocabulary in _FUNCTION_WORDS.items()
    }
    scores["pl"] += 2 * sum(ch in _POLISH_LETTERS for ch in lowered)
    scores["other"] += 2 * sum(ch in _OTHER_LATIN_LETTERS for ch in lowered)
    return scores


def _build_lingua() -> LinguaDetector:
    from lingua import Language, LanguageDetectorBuilder  # noqa: PLC0415 - lazy model

    # Low-accuracy mode: 40 MB instead of 400, and our word clues go first anyway.
    return (
        LanguageDetectorBuilder.from_languages(
            Language.ENGLISH,
            Language.POLISH,
            Language.GERMAN,
            Language.FRENCH,
            Language.SPANISH,
            Language.ITALIAN,
            Language.PORTUGUESE,
            Language.DUTCH,
            Language.CZECH,
            Language.SLOVAK,
            Language.TURKISH,
        )
        .with_low_accuracy_mode()
        .build()
    )


class LanguageDetector:
    """Detects en, el, ru, pl or other. Build one per application; the n-gram models load on the
    first Latin-script text that the word clues cannot settle, or ahead of it with
    ``load_models_in_background``."""

    def __init__(self) -> None:
        self._lingua: LinguaDetector | None = None
        self._loading = threading.Lock()  # one load, whichever thread asks first

    def _models(self) -> LinguaDetector:
        with self._loading:
            if self._lingua is None:
                self._lingua = _build_lingua()
            return self._lingua

    def load_models_in_background(self) -> None:
        """For a long-running bot. Loading takes 0.3 s, most of it in lingua's Rust code with
        the GIL released (the main thread keeps three quarters of its pace meanwhile); loaded on
        demand, it held up every review in flight behind the first ambiguous one (bench/bot.py
        under py-spy: 13% of the bot's samples in a burst of 200 LLM drafts)."""
        threading.Thread(target=self._load_models, name="lingua-models", daemon=True).start()

    def _load_models(self) -> None:
        # lingua reads its n-gram models at the first detection, not when it is built: detect
        # once so that the reading happens here. Plain ASCII keeps every Latin candidate open.
        self._models().detect_language_of("the models load now")

    def _statistical(self, text: str) -> DetectedLanguage:
        found = self._models().detect_language_of(text)
        if found is None:
            return "en"
        code = found.iso_code_639_1.name.lower()
        return code if code in {"en", "pl"} else "other"  # type: ignore[return-value]

    def _latin(self, text: str) -> DetectedLanguage:
        scores = _function_word_scores(text)
        ours = max(scores["en"], scores["pl"])
        if scores["other"] > ours:
            return "other"
        if ours > 0 and scores["en"] != scores["pl"]:
            return "en" if scores["en"] > scores["pl"] else "pl"
        guess = self._statistical(text)
        # Without a single clue, text the models call foreign is mostly English slang ("wtf").
        return "en" if guess == "other" and ours == scores["other"] == 0 else guess

    def detect(self, text: str) -> DetectedLanguage:
        """The language of a review; ``other`` when it is none of en, el, ru, pl or has no words."""
        # lingua (Rust) cannot take a lone surrogate (a "\ud800" JSON escape): UnicodeEncodeError.
        text = replace_surrogates(_URL_OR_HANDLE.sub(" ", text))
        greek, cyrillic, latin, other = _script_counts(text)
        if greek + cyrillic + latin + other == 0:
            return "other"
        if greek >= max(cyrillic, latin, other):
            return "el"
        if cyrillic >= max(latin, other):
            lowered = text.casefold()
            return "other" if any(ch in _NOT_RUSSIAN_CYRILLIC for ch in lowered) else "ru"
        if latin >= other:
            return self._latin(text)
        return "other"
