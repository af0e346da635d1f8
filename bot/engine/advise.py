"""The take-it-private call and the coaching notes, following the playbook cards."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.engine.language_pack import KNOWLEDGE_DIR
from bot.engine.models import Channel, CoachingNote, Review, SellerProfile, Source, TakePrivate
from knowledge.data import read_yaml

if TYPE_CHECKING:
    from collections.abc import Sequence

    from knowledge.cards import Card

CHANNEL_NAMES: dict[Channel, str] = {
    "message": "private message",
    "email": "e-mail",
    "phone": "phone call",
}


class Advisor:
    """Rules for going private and which cards to coach with, read from knowledge/advice.yaml."""

    def __init__(self, cards: dict[str, Card], rules_path=KNOWLEDGE_DIR / "advice.yaml") -> None:
        self.cards = cards
        self.rules = read_yaml(rules_path)

    def take_private(
        self, review: Review, profile: SellerProfile, prior_replies: int = 0
    ) -> tuple[TakePrivate, Channel]:
        """Whether to move the conversation private after the one public reply, why, and where."""
        triggers = self.rules["take_private"]
        reasons: list[dict[str, str]] = []
        if prior_replies > 0:
            reasons.append(triggers["back_and_forth"])
        reasons += [triggers[flag] for flag in review.flags if flag in triggers]
        reasons += [triggers[aspect] for aspect in review.aspects if aspect in triggers]
        if not reasons:
            quiet = triggers["none"]
            return TakePrivate(
                recommended=False, reason=quiet["reason"], channel=CHANNEL_NAMES[profile.channel]
            ), profile.channel
        first = reasons[0]
        channel: Channel = first.get("channel", profile.channel)  # type: ignore[assignment]
        return TakePrivate(
            recommended=True, reason=first["reason"], channel=CHANNEL_NAMES[channel]
        ), channel

    def coaching(self, review: Review, retrieved: Sequence[Card]) -> list[CoachingNote]:
        """2 to 4 notes: the card each risk calls for first, then the best retrieved cards."""
        wanted = [self.rules["coach_for_flag"][flag] for flag in review.flags]
        wanted += [card.id for card in retrieved]
        wanted += self.rules["always_worth_saying"]
        chosen = list(dict.fromkeys(card_id for card_id in wanted if card_id in self.cards))[:4]
        return [
            CoachingNote(
                card=card_id,
                advice=_first_sentences(self.cards[card_id].principle, 2),
                article=self.cards[card_id].article,
            )
            for card_id in chosen
        ]

    def sources(self, notes: Sequence[CoachingNote], retrieved: Sequence[Card]) -> list[Source]:
        ids = dict.fromkeys([note.card for note in notes] + [card.id for card in retrieved])
        return [
            Source(
                card=card_id, title=self.cards[card_id].title, article=self.cards[card_id].article
            )
            for card_id in ids
            if card_id in self.cards
        ]


def _first_sentences(text: str, count: int) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(sentences[:count])
