"""The offline composer: a public reply and a private follow-up from our phrasing data.

Choices are deterministic per review and variant (a hash, not a random generator), so the same
review always gets the same draft and `--variant N` gets another one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.engine.language_pack import LanguagePack
    from bot.engine.models import Channel, Review, SellerProfile

MIN_WORDS = 25
MAX_WORDS = 120
# When a review raises several risks, the reply speaks to the most serious one.
FLAG_PRIORITY = ("legal_threat", "health_or_safety", "fraud_claim", "abusive", "personal_data")


@dataclass(frozen=True)
class Composition:
    public_reply: str
    private_message: str


class Chooser:
    """Picks one option per slot from a seed; different slots vary independently."""

    def __init__(self, *seed_parts: object) -> None:
        self.seed = "\x00".join(str(part) for part in seed_parts)

    def pick(self, slot: str, options: Sequence[str]) -> str:
        if not options:
            raise KeyError(f"no phrasing for {slot}")
        digest = hashlib.sha256(f"{self.seed}\x00{slot}".encode()).digest()
        return options[int.from_bytes(digest[:8], "big") % len(options)]


def word_count(text: str) -> int:
    return len(text.split())


def signature(pack: LanguagePack, profile: SellerProfile) -> str:
    if profile.signature:
        return profile.signature.strip()
    if profile.shop:
        return pack.phrasing["public"]["shop_signature"].format(shop=profile.shop.strip())
    return pack.phrasing["public"]["default_signature"]


def _main_flag(review: Review) -> str | None:
    return next((flag for flag in FLAG_PRIORITY if flag in review.flags), None)


def compose_public(
    review: Review, profile: SellerProfile, pack: LanguagePack, channel: Channel, chooser: Chooser
) -> str:
    public = pack.phrasing["public"]
    aspect = review.aspects[0]
    parts = [
        chooser.pick("opening", public["openings"][aspect]),
        chooser.pick("apology", public["apologies"]),
    ]
    if flag := _main_flag(review):
        parts.append(chooser.pick("flag", public["flag_lines"][flag]))
    parts += [
        chooser.pick("next_step", public["next_steps"][aspect]),
        chooser.pick("invitation", public["invitations"][channel]),
    ]
    closing = chooser.pick("signoff", public["signoffs"]).format(signature=signature(pack, profile))
    return " ".join(parts) + "\n" + closing


def compose_private(
    review: Review, profile: SellerProfile, pack: LanguagePack, chooser: Chooser
) -> str:
    private = pack.phrasing["private"]
    aspect = review.aspects[0]
    if profile.offers:
        # The seller's own allowed gesture, in their words; we never invent one.
        kindness = chooser.pick("gesture", private["gestures"]).format(
            offer=chooser.pick("offer", profile.offers).strip()
        )
    else:
        kindness = chooser.pick("no_offer", private["no_offer_lines"])
    lines = [
        chooser.pick("greeting", private["greetings"]),
        chooser.pick("solution", private["solutions"][aspect]),
        chooser.pick("question", private["questions"][aspect]),
        kindness,
        chooser.pick("closing", private["closings"]),
    ]
    return " ".join(lines) + "\n" + signature(pack, profile)


def compose(
    review: Review,
    profile: SellerProfile,
    pack: LanguagePack,
    channel: Channel,
    *,
    variant: int = 0,
    attempt: int = 0,
) -> Composition:
    """One public reply (25-120 words) and one private message for the review."""
    for retry in range(8):
        chooser = Chooser(review.text, variant, attempt, retry)
        public = compose_public(review, profile, pack, channel, chooser)
        if MIN_WORDS <= word_count(public) <= MAX_WORDS:
            break
    return Composition(public, compose_private(review, profile, pack, chooser))
