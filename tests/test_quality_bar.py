"""The draft quality bar over every dev review, in every language, for every register and length."""

from __future__ import annotations

import asyncio

import pytest

from bench.common import dev_reviews
from bot.engine.compose import WORD_BOUNDS
from bot.engine.models import SellerProfile
from bot.engine.quality import evaluate_drafts

PROFILES = {
    "friendly": SellerProfile(),
    "warm": SellerProfile(tone="warm"),
    "formal": SellerProfile(tone="formal"),
    "short": SellerProfile(length="short"),
}


@pytest.fixture(scope="module", params=list(PROFILES))
def register(request, engine) -> tuple[SellerProfile, dict]:
    profile = PROFILES[request.param]
    report = asyncio.run(evaluate_drafts(engine, list(dev_reviews().values()), profile))
    return profile, report["languages"]


@pytest.mark.parametrize("language", ["en", "el", "ru", "pl"])
def test_drafts_meet_the_quality_bar(register, language):
    profile, report = register
    figures = report[language]
    low, high = WORD_BOUNDS[profile.length]
    assert figures["errors"] == 0
    assert figures["language_match"] >= 0.98
    assert figures["tone_pass"] == 1.0
    assert low <= figures["words_min"] <= figures["words_max"] <= high
    assert figures["unique_replies"] >= 0.95
    assert figures["top_opening_share"] <= 0.20
    assert figures["personal_data_leaks"] == 0
