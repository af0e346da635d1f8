"""The draft quality bar over every dev review, in every language."""

from __future__ import annotations

import asyncio

import pytest

from bench.common import dev_reviews
from bot.engine.quality import evaluate_drafts


@pytest.fixture(scope="module")
def report(engine) -> dict:
    return asyncio.run(evaluate_drafts(engine, list(dev_reviews().values())))["languages"]


@pytest.mark.parametrize("language", ["en", "el", "ru", "pl"])
def test_drafts_meet_the_quality_bar(report, language):
    figures = report[language]
    assert figures["errors"] == 0
    assert figures["language_match"] >= 0.98
    assert figures["tone_pass"] == 1.0
    assert 25 <= figures["words_min"] <= figures["words_max"] <= 120
    assert figures["unique_replies"] >= 0.95
    assert figures["top_opening_share"] <= 0.20
    assert figures["personal_data_leaks"] == 0
