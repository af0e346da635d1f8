"""The playbook cards: our own restatement of the five articles, kept as YAML data in cards/."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field, ValidationError

from knowledge.data import YAMLError, read_yaml
from knowledge.errors import CardFormatError

Language = Literal["en", "el", "ru", "pl"]
LANGUAGES: tuple[Language, ...] = ("en", "el", "ru", "pl")

Aspect = Literal[
    "late_delivery",
    "damaged_item",
    "wrong_item",
    "missing_item",
    "not_as_described",
    "poor_quality",
    "rude_service",
    "refund_problem",
    "no_response",
    "billing_problem",
    "other",
]
Flag = Literal["legal_threat", "health_or_safety", "abusive", "fraud_claim", "personal_data"]
ASPECTS: tuple[Aspect, ...] = get_args(Aspect)
FLAGS: tuple[Flag, ...] = get_args(Flag)

CARDS_DIR = Path(__file__).parent / "cards"
ROUTES_PATH = Path(__file__).parent / "routes.yaml"
EXAMPLES_DIR = Path(__file__).parent / "examples"


class ArticleSource(BaseModel):
    title: str
    publisher: str
    language: Literal["el", "ru", "pl"]


class AppliesTo(BaseModel):
    aspects: list[Aspect | Literal["any"]]
    flags: list[Flag] = Field(default_factory=list)
    situations: list[str]


class PerLanguage(BaseModel):
    en: list[str]
    el: list[str]
    ru: list[str]
    pl: list[str]

    def get(self, language: str) -> list[str]:
        return getattr(self, language, self.en)


class Card(BaseModel):
    """One piece of playbook guidance, attributed to the article it restates."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    article: str = Field(pattern=r"^\d{3}_[0-9a-f]{16}\.txt$")
    source: ArticleSource
    principle: str
    facts: list[str] = Field(default_factory=list)
    applies_to: AppliesTo
    do: list[str]
    dont: list[str]
    phrasings: PerLanguage
    cues: PerLanguage

    @property
    def citation(self) -> str:
        return f'{self.source.publisher}, "{self.source.title}" ({self.article})'


def load_card(path: Path) -> Card:
    try:
        data = read_yaml(path)
        card = Card.model_validate(data)
    except (YAMLError, ValidationError, UnicodeDecodeError) as error:
        first_line = str(error).splitlines()[0]
        raise CardFormatError(f"card {path.name} is not valid: {first_line}") from error
    if card.id != path.stem:
        raise CardFormatError(f"card {path.name} has id {card.id!r}; it must match the file name")
    return card


def load_cards(directory: Path = CARDS_DIR) -> list[Card]:
    """All cards in a directory, sorted by id so every process sees the same order."""
    return sorted((load_card(path) for path in directory.glob("*.yaml")), key=lambda c: c.id)


class Routes(BaseModel):
    """For each complaint type and risk, the cards the playbook puts first, most essential first."""

    aspects: dict[Aspect, list[str]]
    flags: dict[Flag, list[str]]
    # Situations the lexicons detect (the customer was blamed, was never told, it happened
    # again...), each pointing at the card written for exactly that.
    situations: dict[str, list[str]] = Field(default_factory=dict)


def load_routes(path: Path = ROUTES_PATH, card_ids: set[str] | None = None) -> Routes:
    try:
        routes = Routes.model_validate(read_yaml(path))
    except (YAMLError, ValidationError) as error:
        raise CardFormatError(f"{path.name} is not valid: {str(error).splitlines()[0]}") from error
    lists = [*routes.aspects.values(), *routes.flags.values(), *routes.situations.values()]
    named = {card for cards in lists for card in cards}
    if card_ids is not None and (unknown := named - card_ids):
        raise CardFormatError(f"{path.name} names cards that do not exist: {sorted(unknown)}")
    return routes


def load_examples(
    directory: Path = EXAMPLES_DIR, card_ids: set[str] | None = None
) -> dict[str, dict[str, list[str]]]:
    """card id -> language -> example complaints for which the card is the essential guidance."""
    examples: dict[str, dict[str, list[str]]] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = read_yaml(path)
            language, per_card = data["language"], data["examples"]
        except (YAMLError, KeyError, TypeError) as error:
            raise CardFormatError(f"examples file {path.name} is not valid: {error}") from error
        if card_ids is not None and (unknown := set(per_card) - card_ids):
            raise CardFormatError(f"{path.name} names cards that do not exist: {sorted(unknown)}")
        for card_id, texts in per_card.items():
            examples.setdefault(card_id, {})[language] = [str(text) for text in texts]
    return examples
