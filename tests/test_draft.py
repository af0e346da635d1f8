"""Drafting a reply: what a seller gets for a review, in each language."""

from __future__ import annotations

import asyncio
import re

import pytest

from bot.engine.compose import word_count
from bot.engine.models import SellerProfile
from bot.engine.understand import understand

REVIEWS = {
    "en": "Ordered a ceramic mug three weeks ago and it still hasn't arrived. Nobody answers.",
    "el": "Παρήγγειλα μια κούπα πριν από τρεις εβδομάδες και ακόμα δεν έχει έρθει. Απαράδεκτο!",
    "ru": "Заказала кружку три недели назад, до сих пор не пришла. Ужасный магазин!",
    "pl": "Zamówiłam kubek trzy tygodnie temu i nadal nie dotarł. Masakra!",
}


def draft(engine, text: str, **kwargs):
    profile = kwargs.pop("profile", None)
    return asyncio.run(engine.draft(text, profile, **kwargs))


@pytest.mark.parametrize("language", REVIEWS)
def test_a_review_gets_a_reply_in_its_own_language_that_passes_the_tone_check(engine, language):
    result = draft(engine, REVIEWS[language])
    assert result.language == language
    assert understand(result.public_reply, engine.packs).language == language
    assert 25 <= word_count(result.public_reply) <= 120
    assert result.tone.verdict == "ok"
    assert result.engine == "offline"


def test_the_reply_names_the_problem_not_any_inconvenience(engine):
    late = draft(engine, "My parcel is three weeks late, still waiting.").public_reply
    broken = draft(engine, "The vase arrived smashed to pieces, glass everywhere.").public_reply
    assert "inconvenience" not in (late + broken).lower()
    assert late.split(".")[0] != broken.split(".")[0]


def test_the_same_review_gets_the_same_draft_and_a_variant_gets_another(engine):
    text = REVIEWS["en"]
    assert draft(engine, text).public_reply == draft(engine, text).public_reply
    variants = {draft(engine, text, variant=n).public_reply for n in range(4)}
    assert len(variants) >= 3


def test_the_private_message_offers_only_what_the_seller_allows(engine):
    text = "The scarf I received is a completely different colour from the photo."
    without = draft(engine, text).private_message
    assert not re.search(r"discount|refund|coupon|voucher|free|%", without, re.IGNORECASE)
    allowed = draft(engine, text, profile=SellerProfile(offers=["free gift wrapping"]))
    assert "free gift wrapping" in allowed.private_message


def test_the_sign_off_is_the_sellers(engine):
    result = draft(engine, REVIEWS["en"], profile=SellerProfile(signature="Maria from Clay & Co"))
    assert result.public_reply.rstrip().endswith("Maria from Clay & Co")
    assert "Maria from Clay & Co" in result.private_message
    shop = draft(engine, REVIEWS["pl"], profile=SellerProfile(shop="Glina"))
    assert "Glina" in shop.public_reply


def test_personal_data_in_the_review_is_never_repeated_in_public(engine):
    text = (
        "Order #558812 never arrived. I'm at 14 Baker Street, call me on +44 7700 900123 "
        "or write to jane.doe@example.com. Worst shop ever."
    )
    result = draft(engine, text)
    assert "personal_data" in result.flags
    for secret in ("558812", "Baker", "7700", "jane.doe"):
        assert secret not in result.public_reply
    assert result.take_private.recommended


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("I will take you to court and my lawyer will hear about this scam.", "legal_threat"),
        ("The charger caught fire and burned my hand, this is dangerous!", "health_or_safety"),
    ],
)
def test_risky_reviews_are_taken_private_with_a_reason(engine, text, flag):
    result = draft(engine, text)
    assert flag in result.flags
    assert result.take_private.recommended
    assert result.take_private.reason
    assert result.take_private.channel


def test_coaching_cites_two_to_four_cards_with_their_articles(engine):
    result = draft(engine, "The driver was rude to me and threw the box at my door.")
    assert 2 <= len(result.coaching) <= 4
    known = engine.knowledge.cards
    for note in result.coaching:
        assert note.card in known
        assert note.article == known[note.card].article
        assert note.advice
    assert {source.card for source in result.sources} >= {note.card for note in result.coaching}


def test_an_unsupported_language_is_answered_in_english(engine):
    result = draft(engine, "Das Paket kam beschädigt an und niemand antwortet auf meine E-Mails.")
    assert result.language == "other"
    assert understand(result.public_reply, engine.packs).language == "en"


def test_reviews_arriving_together_are_answered_in_every_event_loop(engine):
    """The engine lives longer than one event loop (the bot's, a test's, each CLI command's):
    reviews that wait on each other in one loop and then in another are all answered."""

    async def together() -> list[str]:
        drafts = await asyncio.gather(*(engine.draft(text) for text in REVIEWS.values()))
        return [found.language for found in drafts]

    assert asyncio.run(together()) == list(REVIEWS)
    assert asyncio.run(together()) == list(REVIEWS)
