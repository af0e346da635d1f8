"""The offline composer: a public reply and a private follow-up from our phrasing data.

Choices are deterministic per review and variant (a hash, not a random generator), so the same
review always gets the same draft and `--variant N` gets another one.

The seller's tone picks a register: "friendly" is the base phrasing; "warm" and "formal" take
each slot from the phrasing file's `registers:` section where it has it, and from the base
phrasing elsewhere (warm also adds a line of thanks). A short reply opens with one sentence that
names the problem and apologises for it, speaks to a risk only when it is a legal threat or a
safety issue, and picks the shorter options of the other slots; it keeps the next step, the way to
continue privately and the sign-off.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.engine.language_pack import LanguagePack
    from bot.engine.models import Channel, Length, Review, SellerProfile

MIN_WORDS = 25
MAX_WORDS = 120
# A short public reply: still the problem named with an apology, a next step, the way to continue
# privately and the sign-off, in fewer words.
SHORT_MIN_WORDS = 15
SHORT_MAX_WORDS = 60
WORD_BOUNDS: dict[Length, tuple[int, int]] = {
    "normal": (MIN_WORDS, MAX_WORDS),
    "short": (SHORT_MIN_WORDS, SHORT_MAX_WORDS),
}
# When a review raises several risks, the reply speaks to the most serious one.
FLAG_PRIORITY = ("legal_threat", "health_or_safety", "fraud_claim", "abusive", "personal_data")
# Risks a short reply still speaks to in public; for the others the private message is enough.
SHORT_REPLY_FLAGS = ("legal_threat", "health_or_safety")
# A short reply picks from the shorter half of a slot's options, but from no fewer than this.
SHORT_CHOICES = 4


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


def _shorter(options: Sequence[str]) -> list[str]:
    """The shorter half of a slot's options (at least SHORT_CHOICES), in their file order."""
    keep = max(SHORT_CHOICES, (len(options) + 1) // 2)
    if len(options) <= keep:
        return list(options)
    ranked = sorted(range(len(options)), key=lambda index: (word_count(options[index]), index))
    return [options[index] for index in sorted(ranked[:keep])]


class Phrasing:
    """A language's phrasing in the seller's register and length: each slot's options."""

    def __init__(self, pack: LanguagePack, profile: SellerProfile) -> None:
        self.base = pack.phrasing
        registers = self.base.get("registers") or {}
        self.register = registers.get(profile.tone) or {}
        self.short = profile.length == "short"

    def options(
        self, section: str, slot: str, key: str | None = None, *, shorten: bool = True
    ) -> list[str]:
        """The register's options for a slot (e.g. public/openings/late_delivery) if it has
        them, else the base phrasing's; only the shorter ones for a short reply (unless the
        slot is short anyway: ``shorten=False``)."""
        base = self.base[section].get(slot)
        own = (self.register.get(section) or {}).get(slot)
        if key is not None:
            base = (base or {}).get(key)
            own = (own or {}).get(key)
        options = list(own or base or [])
        return _shorter(options) if self.short and shorten else options


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
    phrasing = Phrasing(pack, profile)
    aspect = review.aspects[0]
    if phrasing.short:
        # One sentence that names the problem and apologises for it.
        problems = phrasing.options("public", "problems", aspect, shorten=False)
        short_apologies = phrasing.options("public", "short_apologies", shorten=False)
        problem = chooser.pick("problem", problems)
        short_apology = chooser.pick("apology", short_apologies)
        parts = [short_apology.format(problem=problem)]
    else:
        parts = [
            chooser.pick("opening", phrasing.options("public", "openings", aspect)),
            chooser.pick("apology", phrasing.options("public", "apologies")),
        ]
    flag = _main_flag(review)
    if flag and not (phrasing.short and flag not in SHORT_REPLY_FLAGS):
        parts.append(chooser.pick("flag", phrasing.options("public", "flag_lines", flag)))
    parts += [
        chooser.pick("next_step", phrasing.options("public", "next_steps", aspect)),
        chooser.pick("invitation", phrasing.options("public", "invitations", channel)),
    ]
    # A register may add a line of its own (warm: thanks for the chance to put it right).
    extra = phrasing.options("public", "extra_lines")
    if extra and not phrasing.short:
        parts.append(chooser.pick("extra", extra))
    signoffs = phrasing.options("public", "signoffs", shorten=False)
    closing = chooser.pick("signoff", signoffs).format(signature=signature(pack, profile))
    return " ".join(parts) + "\n" + closing


def compose_private(
    review: Review, profile: SellerProfile, pack: LanguagePack, chooser: Chooser
) -> str:
    phrasing = Phrasing(pack, profile)
    aspect = review.aspects[0]
    if profile.offers:
        # The seller's own allowed gesture, in their words; we never invent one.
        kindness = chooser.pick("gesture", phrasing.options("private", "gestures")).format(
            offer=chooser.pick("offer", profile.offers).strip()
        )
    else:
        kindness = chooser.pick("no_offer", phrasing.options("private", "no_offer_lines"))
    lines = [
        chooser.pick("greeting", phrasing.options("private", "greetings")),
        chooser.pick("solution", phrasing.options("private", "solutions", aspect)),
        chooser.pick("question", phrasing.options("private", "questions", aspect)),
        kindness,
        chooser.pick("closing", phrasing.options("private", "closings")),
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
    """One public reply (25-120 words; short: 15-60) and one private message for the review.

    If no choice of phrasing fits those bounds, the reply that comes closest is kept."""
    low, high = WORD_BOUNDS[profile.length]
    tries: list[tuple[int, int, str, Chooser]] = []  # (words outside the bounds, retry, ...)
    for retry in range(8):
        chooser = Chooser(review.text, variant, attempt, retry)
        public = compose_public(review, profile, pack, channel, chooser)
        words = word_count(public)
        tries.append((max(low - words, words - high, 0), retry, public, chooser))
        if not tries[-1][0]:
            break
    _, _, public, chooser = min(tries, key=lambda item: item[:2])
    return Composition(public, compose_private(review, profile, pack, chooser))
