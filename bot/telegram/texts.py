"""What the bot says, per interface language (bot/telegram/locales/<lang>.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from knowledge.cards import LANGUAGES
from knowledge.data import read_yaml

LOCALES_DIR = Path(__file__).resolve().parent / "locales"


class Texts:
    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self._by_language: dict[str, dict[str, Any]] = {
            language: read_yaml(directory / f"{language}.yaml") for language in LANGUAGES
        }

    def language_of(self, language_code: str | None) -> str:
        """Telegram's language code ("ru", "pl-PL", "en-GB"), or English for anything else."""
        code = (language_code or "en").split("-")[0].lower()
        return code if code in self._by_language else "en"

    def get(self, language_code: str | None, key: str) -> Any:
        return self._by_language[self.language_of(language_code)][key]
