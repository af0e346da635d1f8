"""The playbook cards: complete, attributed, multilingual, and in our own words."""

from __future__ import annotations

import re
import unicodedata

import pytest

from knowledge.cards import LANGUAGES, load_cards
from tests.conftest import PLAYBOOK

ARTICLES = sorted(path.name for path in PLAYBOOK.glob("*.txt"))


@pytest.fixture(scope="module")
def cards():
    return load_cards()


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.findall(r"\w+", folded)


def _card_strings(card) -> list[str]:
    return [
        card.title,
        card.principle,
        *card.facts,
        *card.applies_to.situations,
        *card.do,
        *card.dont,
        *(text for lang in LANGUAGES for text in card.phrasings.get(lang)),
    ]


def test_there_are_25_to_40_cards_with_unique_ids(cards):
    assert 25 <= len(cards) <= 40
    assert len({card.id for card in cards}) == len(cards)


def test_every_card_names_one_of_the_five_articles_and_every_article_has_cards(cards):
    assert {card.article for card in cards} == set(ARTICLES)


def test_every_card_speaks_all_four_languages(cards):
    for card in cards:
        for language in LANGUAGES:
            assert card.phrasings.get(language), f"{card.id} has no {language} phrasing"
            assert card.cues.get(language), f"{card.id} has no {language} cues"


@pytest.mark.parametrize(
    ("fact", "pattern"),
    [
        ("7 of 10 unhappy customers stay", r"\b(7|seven)\b.{0,12}\b(10|ten)\b"),
        ("the barista's lost revenue", r"5,?400"),
        ("the plums exchange", r"plum"),
        ("the dry cappuccino", r"cappuccino"),
        ("the faulty CD replaced the same day", r"\bCDs?\b"),
        ("Milka paying a dentist", r"Milka"),
        ("Cupsell replacing T-shirts", r"Cupsell"),
        ("information shown in the photos", r"photo"),
        ("never assume", r"never assume"),
        ("a second shipment as a gift", r"second (shipment|parcel)"),
        ("not a branded pen", r"pen\b"),
        ("win the battle, lose the war", r"battle"),
        ("apology is not an admission of guilt", r"admission|admit"),
    ],
)
def test_the_articles_facts_and_examples_are_all_carried_over(cards, fact, pattern):
    text = "\n".join("\n".join(_card_strings(card)) for card in cards)
    assert re.search(pattern, text, re.IGNORECASE), f"no card carries: {fact}"


def test_no_card_copies_a_sentence_from_the_articles(cards):
    """Eight words in a row shared with an article would be copying, not restating."""
    run = 8
    article_runs: set[tuple[str, ...]] = set()
    for path in PLAYBOOK.glob("*.txt"):
        words = _words(path.read_text("utf-8"))
        article_runs.update(tuple(words[i : i + run]) for i in range(len(words) - run + 1))
    for card in cards:
        for text in _card_strings(card):
            words = _words(text)
            copied = [
                " ".join(words[i : i + run])
                for i in range(len(words) - run + 1)
                if tuple(words[i : i + run]) in article_runs
            ]
            assert not copied, f"{card.id} repeats the article: {copied[0]}"
