"""Checking a seller's own reply: the right findings, no false alarms, a usable rewrite."""

from __future__ import annotations

import asyncio

import pytest

from bench.common import tone_rows
from bot.engine.quality import evaluate_tone

TARGET_KINDS = ("blame", "argue", "private_details", "review_incentive")


def check(engine, reply: str, review: str | None = None):
    return asyncio.run(engine.check(reply, review))


@pytest.fixture(scope="module")
def tone_scores(engine):
    return asyncio.run(evaluate_tone(engine, tone_rows()))


@pytest.mark.parametrize("kind", TARGET_KINDS)
def test_the_checker_catches_at_least_90_percent_of_each_serious_problem(tone_scores, kind):
    assert tone_scores.kinds[kind].recall >= 0.9


def test_at_least_90_percent_of_good_replies_pass_untouched(tone_scores):
    assert tone_scores.good_pass_rate >= 0.9, tone_scores.false_alarms


def test_a_sincere_reply_passes(engine):
    reply = (
        "I'm so sorry your lamp arrived with a cracked shade. I'll send a new shade out today "
        "and you'll have it within three days. Could you message us privately so I can confirm "
        "the address? Anna"
    )
    report = check(engine, reply)
    assert report.verdict == "ok"
    assert report.findings == []


def test_a_blaming_reply_is_flagged_with_excerpt_reason_suggestion_and_card(engine):
    reply = "You should have read the description. The size was clearly stated. Nothing we can do."
    report = check(engine, reply)
    assert report.verdict == "revise"
    kinds = {finding.kind: finding for finding in report.findings}
    assert "blame" in kinds
    blame = kinds["blame"]
    assert blame.excerpt in reply
    assert blame.why
    assert blame.suggestion
    assert blame.card in engine.knowledge.cards


def test_trading_a_discount_for_a_changed_review_is_flagged(engine):
    reply = "Sorry about that! If you update your review to 5 stars we'll send you a 20% coupon."
    assert "review_incentive" in {finding.kind for finding in check(engine, reply).findings}


def test_a_rewrite_keeps_the_language_and_passes_the_check(engine):
    review = "Посылка пришла разбитой, а продавец даже не ответил на сообщение."
    reply = "Это не наша вина, вы неправильно указали адрес. Почту надо читать внимательнее!!!"
    report = check(engine, reply, review)
    assert report.verdict == "revise"
    assert report.rewrite
    assert check(engine, report.rewrite).verdict == "ok"
    assert report.language == "ru"


def test_personal_data_from_the_review_repeated_in_the_reply_is_flagged(engine):
    review = "Order 77321 never came. Email me at kate.m@gmail.com!"
    reply = "So sorry Kate, I'll email kate.m@gmail.com today about order 77321 and fix it."
    kinds = {finding.kind for finding in check(engine, reply, review).findings}
    assert "private_details" in kinds
