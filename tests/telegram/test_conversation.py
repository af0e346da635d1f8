"""The bot end to end over real HTTP: aiogram, unmodified, against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import html
import os
import subprocess
import sys

import pytest

from bot.telegram.access import RateLimiter
from bot.telegram.joiner import ReviewJoiner
from bot.telegram.render import split_message
from knowledge.language import LanguageDetector
from tests.conftest import REPO
from tests.fake_telegram import TelegramHTMLError, validate_html
from tests.telegram.conftest import BotProcess


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Paste"), ("el", "Επικολλήστε"), ("ru", "Вставьте"), ("pl", "Wklej"), ("de", "Paste")],
)
async def test_start_greets_in_the_users_language(running_bot, language, words):
    running_bot.user_sends("/start", language=language)
    sent = await running_bot.wait_for_messages(1)
    assert words in sent[0]["text"]


@pytest.mark.parametrize(
    ("review", "language"),
    [
        ("My parcel is three weeks late and nobody answers.", "en"),
        ("Η παραγγελία μου άργησε τρεις εβδομάδες και κανείς δεν απαντά.", "el"),
        ("Посылка опаздывает на три недели, никто не отвечает.", "ru"),
        ("Paczka spóźnia się trzy tygodnie i nikt nie odpowiada.", "pl"),
    ],
)
async def test_a_review_gets_a_reply_in_its_language_in_valid_html(running_bot, review, language):
    running_bot.user_sends(review, language="en")
    sent = await running_bot.wait_for_messages(1)
    text = sent[0]["text"]
    assert sent[0]["parse_mode"] == "HTML"
    validate_html(text)
    public_reply = html.unescape(text.split("<pre>")[1].split("</pre>")[0])
    assert LanguageDetector().detect(public_reply) == language


async def test_html_in_a_review_arrives_escaped(running_bot):
    running_bot.user_sends("<b>Broken</b> mug & <script>alert(1)</script> <i>unclosed")
    sent = await running_bot.wait_for_messages(1)
    validate_html(sent[0]["text"])
    assert "<script>" not in sent[0]["text"]


async def test_a_sticker_gets_a_friendly_hint(running_bot):
    sticker = {"file_id": "x", "file_unique_id": "y", "type": "regular", "width": 1, "height": 1}
    running_bot.user_sends(sticker={**sticker, "is_animated": False, "is_video": False})
    sent = await running_bot.wait_for_messages(1)
    assert "only read text" in sent[0]["text"]


async def test_an_empty_looking_review_gets_a_clear_sentence(running_bot):
    running_bot.user_sends("🙂🙂🙂")
    sent = await running_bot.wait_for_messages(1)
    assert "no words" in sent[0]["text"]


def test_the_fake_rejects_what_telegram_rejects():
    for bad in ("<script>x</script>", "<b>open", "a & b", "1 < 2"):
        with pytest.raises(TelegramHTMLError):
            validate_html(bad)
    validate_html("<b>ok</b> &lt;tag&gt; &amp; <pre>x</pre>")


def test_run_without_a_token_says_how_to_get_one():
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "complaint-coach draft" in result.stderr


def test_run_without_a_token_answers_before_loading_telegrams_library():
    """The missing token is reported at once, not after aiogram's 3-second import."""
    code = (
        "import sys; from bot.cli import run; exit_code = run(['run']); "
        "print('AIOGRAM' if 'aiogram' in sys.modules else 'CLEAN', exit_code, file=sys.stderr)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "@BotFather" in result.stderr
    assert result.stderr.strip().endswith("CLEAN 2"), result.stderr


@pytest.fixture
async def guarded_bot(telegram, engine, isolated_env):
    """A bot open to users 42 and 43 only, with at most 2 drafts a minute and 3 a day."""
    clock = {"now": 1000.0}
    limiter = RateLimiter(per_minute=2, per_day=3, clock=lambda: clock["now"])
    process = BotProcess(telegram, engine, isolated_env, allowed_users=[42, 43], limiter=limiter)
    await process.start()
    yield telegram, clock
    await process.stop()


async def test_a_user_not_on_the_allowlist_is_refused_politely(guarded_bot):
    telegram, _ = guarded_bot
    telegram.user_sends("My parcel never came.", user_id=7, language="pl")
    sent = await telegram.wait_for_messages(1)
    assert "prywatny" in sent[0]["text"]
    assert "<pre>" not in sent[0]["text"]


async def test_rate_limits_hold_per_minute_and_per_day(guarded_bot):
    telegram, clock = guarded_bot
    for _ in range(3):
        telegram.user_sends("My parcel never came and nobody answers.")
    sent = await telegram.wait_for_messages(3)
    drafts = [m for m in sent if "<pre>" in m["text"]]
    refusals = [m for m in sent if "one minute" in m["text"]]
    assert (len(drafts), len(refusals)) == (2, 1)
    clock["now"] += 61  # a minute later: one more fits the day's limit of 3, then no more
    telegram.user_sends("Still waiting for my parcel.")
    telegram.user_sends("Still waiting for my parcel!")
    later = (await telegram.wait_for_messages(5))[3:]
    # Updates are handled concurrently, so the quick refusal may arrive before the draft.
    assert sorted("<pre>" in m["text"] for m in later) == [False, True]
    assert any("today's limit" in m["text"] for m in later)
    telegram.user_sends("/help", user_id=42)  # commands are not counted
    sent = await telegram.wait_for_messages(6)
    assert "Paste or forward" in sent[5]["text"]


def test_concurrent_requests_cannot_exceed_the_limit():
    limiter = RateLimiter(per_minute=10, per_day=200, clock=lambda: 5.0)
    allowed = [limiter.allow(1) is None for _ in range(50)]
    assert sum(allowed) == 10
    assert limiter.allow(2) is None  # another user has their own budget


async def test_a_review_split_by_telegram_is_answered_once_for_the_whole(running_bot):
    first = ("The parcel was late and the mug was broken. " * 100)[:4096]
    running_bot.user_sends(first)
    running_bot.user_sends("And nobody answered my three e-mails about it.")
    await running_bot.wait_for_messages(1)
    await asyncio.sleep(2.0)  # longer than the joining window: no second answer comes
    assert len(running_bot.sent) == 1
    assert "<pre>" in running_bot.sent[0]["text"]


async def test_the_joiner_joins_continuations_and_lets_short_reviews_through():
    joiner = ReviewJoiner(window=0.2, long_part=10)
    assert await joiner.collect(1, "short") == "short"
    whole = asyncio.create_task(joiner.collect(1, "a long first part"))
    await asyncio.sleep(0.05)
    assert await joiner.collect(1, "the rest") is None
    assert await whole == "a long first part\nthe rest"
    assert await joiner.collect(2, "another chat, short") == "another chat, short"


def test_long_replies_are_split_between_lines_and_never_inside_a_pre_block():
    block = "<pre>" + "\n".join(["reply line"] * 50) + "</pre>"
    html_text = "\n".join(["<b>heading</b>", block, *[f"note {i} " * 20 for i in range(40)]])
    parts = split_message(html_text, limit=1000)
    assert len(parts) > 1
    assert all(len(part) <= 1000 for part in parts)
    assert "\n".join(parts) == html_text
    for part in parts:
        validate_html(part)


async def test_flood_control_is_waited_out_and_the_message_still_arrives(running_bot):
    running_bot.flood_sends = 1
    running_bot.user_sends("/help")
    sent = await running_bot.wait_for_messages(1)
    assert "Paste or forward" in sent[0]["text"]
    assert running_bot.calls.count("sendMessage") == 2
