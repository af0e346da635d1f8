"""The engine's vocabulary: what goes in, what comes out. The CLI's --json is these, dumped."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from knowledge.cards import Aspect, Flag

ReplyLanguage = Literal["en", "el", "ru", "pl"]
DetectedLanguage = Literal["en", "el", "ru", "pl", "other"]
Channel = Literal["message", "email", "phone"]
# The register of a reply: "friendly" is plain and kind, "warm" more personal, "formal" polite
# and distant (never corporate). Both engines honour it, and the length.
Tone = Literal["friendly", "warm", "formal"]
Length = Literal["short", "normal"]
# Where the seller's reviews appear: platforms differ in how buyers and sellers may talk privately.
Platform = Literal["google", "etsy", "amazon", "facebook", "own_shop", "other"]
FindingKind = Literal[
    "blame",
    "argue",
    "sarcasm",
    "corporate",
    "no_apology",
    "no_solution",
    "private_details",
    "review_incentive",
    "shouting",
]
EngineName = Literal["offline", "llm"]

MAX_REVIEW_CHARS = 8000


class SellerProfile(BaseModel):
    """What the seller tells us about themselves; nothing here is ever invented by the engine."""

    shop: str | None = None
    signature: str | None = None
    # Goodwill gestures the seller allows, in their words ("10% discount code"). Empty: none.
    offers: list[str] = Field(default_factory=list)
    channel: Channel = "message"
    tone: Tone = "friendly"
    length: Length = "normal"
    platform: Platform | None = None


class Review(BaseModel):
    """What we understood of a review."""

    text: str
    language: DetectedLanguage
    aspects: list[Aspect]
    flags: list[Flag]
    # Personal data found in the review (order numbers, e-mails, phones, addresses): used to make
    # sure none of it is repeated in public; never part of the output.
    personal_data: list[str] = Field(default_factory=list, exclude=True)
    # What else the lexicons recognised (the customer was blamed, was never told, it happened
    # again...): steers retrieval to the card for that situation; not part of the output.
    situations: list[str] = Field(default_factory=list, exclude=True)

    @property
    def reply_language(self) -> ReplyLanguage:
        return "en" if self.language == "other" else self.language


class TakePrivate(BaseModel):
    recommended: bool
    reason: str
    channel: str


class CoachingNote(BaseModel):
    card: str
    advice: str
    article: str


class Source(BaseModel):
    card: str
    title: str
    article: str


class Finding(BaseModel):
    kind: FindingKind
    excerpt: str
    why: str
    suggestion: str
    card: str


class ToneSummary(BaseModel):
    verdict: Literal["ok", "revise"]
    findings: list[Finding]


class ToneReport(BaseModel):
    language: DetectedLanguage
    verdict: Literal["ok", "revise"]
    findings: list[Finding]
    rewrite: str | None = None


class Draft(BaseModel):
    language: DetectedLanguage
    aspects: list[Aspect]
    flags: list[Flag]
    public_reply: str
    private_message: str
    take_private: TakePrivate
    coaching: list[CoachingNote]
    sources: list[Source]
    engine: EngineName
    tone: ToneSummary
    # Anything the seller should know about how this draft was made (e.g. a fallback).
    notes: list[str] = Field(default_factory=list)
