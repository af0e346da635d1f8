"""Per-language content (phrasing, lexicon, tone) loaded from knowledge/ and compiled once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.engine.matching import PhraseMatcher
from knowledge.cards import ASPECTS, FLAGS, LANGUAGES
from knowledge.data import read_yaml
from knowledge.language import LanguageDetector

KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"


def _read(path: Path) -> dict[str, Any]:
    return read_yaml(path) or {}


@dataclass
class LanguagePack:
    """Everything the offline engine needs to read and write one language."""

    language: str
    phrasing: dict[str, Any]
    lexicon: dict[str, Any]
    tone: dict[str, Any]
    _matchers: dict[str, PhraseMatcher] = field(default_factory=dict, repr=False)

    def matcher(self, group: str, name: str) -> PhraseMatcher:
        """Compiled matcher for e.g. ('aspects', 'late_delivery') or ('tone', 'blame')."""
        key = f"{group}:{name}"
        if key not in self._matchers:
            source = self.tone if group == "tone" else self.lexicon.get(group, {})
            self._matchers[key] = PhraseMatcher(source.get(name, []) or [])
        return self._matchers[key]

    @cached_property
    def matcher_groups(self) -> dict[str, list[str]]:
        """Per group, the names of the matchers a review or a check of this language uses."""
        return {
            "aspects": [aspect for aspect in ASPECTS if aspect != "other"],
            "flags": [flag for flag in FLAGS if flag != "personal_data"],
            "situations": list(self.lexicon.get("situations", {}) or {}),
            "tone": [name for name, entries in self.tone.items() if isinstance(entries, list)],
        }

    def _group_matchers(self, group: str) -> dict[str, PhraseMatcher]:
        return {name: self.matcher(group, name) for name in self.matcher_groups[group]}

    def aspect_matchers(self) -> dict[str, PhraseMatcher]:
        return self._group_matchers("aspects")

    def flag_matchers(self) -> dict[str, PhraseMatcher]:
        return self._group_matchers("flags")

    def situation_matchers(self) -> dict[str, PhraseMatcher]:
        return self._group_matchers("situations")

    @cached_property
    def personal_data_words(self) -> dict[str, list[str]]:
        words = self.lexicon.get("personal_data", {})
        return {"order": words.get("order_words", []), "address": words.get("address_words", [])}


class LanguagePacks:
    """The four packs, read lazily: a check in Greek never parses the Polish files."""

    def __init__(self, directory: Path = KNOWLEDGE_DIR) -> None:
        self.directory = directory
        self._packs: dict[str, LanguagePack] = {}
        self.detector = LanguageDetector()
        self.finding_kinds: dict[str, dict[str, str]] = _read(directory / "tone" / "kinds.yaml")

    async def compile_matchers_in_turns(self) -> None:
        """Every language's matchers, for a bot that is already answering: one matcher per
        turn of the event loop (a few milliseconds each), so reviews arriving meanwhile are not
        held up, and a review that needs one not yet compiled compiles it then. Compiled lazily
        instead, the first review in each language stalled every other review in flight with
        it; compiled before the bot polls, all of them (half a second) came before its first
        answer."""
        for language in LANGUAGES:
            pack = self[language]
            for group, names in pack.matcher_groups.items():
                for name in names:
                    pack.matcher(group, name)
                    await asyncio.sleep(0)

    def __getitem__(self, language: str) -> LanguagePack:
        language = language if language in LANGUAGES else "en"
        if language not in self._packs:
            self._packs[language] = LanguagePack(
                language=language,
                phrasing=_read(self.directory / "phrasing" / f"{language}.yaml"),
                lexicon=_read(self.directory / "lexicon" / f"{language}.yaml"),
                tone=_read(self.directory / "tone" / f"{language}.yaml"),
            )
        return self._packs[language]
