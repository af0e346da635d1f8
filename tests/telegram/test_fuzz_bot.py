"""The message handler fuzzed through the fake Bot API: whatever arrives, each message gets an
answer, every answer is valid Telegram HTML (the fake refuses anything else), and a draft is in
one of the supported languages."""

from __future__ import annotations

import asyncio
import html
from collections import Counter
from typing import TYPE_CHECKING

from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from bot.telegram.access import RateLimiter
from knowledge.language import LanguageDetector
from tests.fake_telegram import FakeTelegram
from tests.telegram.conftest import BotProcess
from tests.test_fuzz import fuzz, review_text

if TYPE_CHECKING:
    from pathlib import Path

    from bot.engine.service import CoachEngine

MESSAGES_PER_EXAMPLE = 40
SUPPORTED = {"en", "el", "ru", "pl"}
# Telegram delivers at most 4,096 characters per message, and never an empty text.
telegram_text = review_text.map(lambda text: text[:4096]).filter(lambda text: text.strip())


async def send_all(engine: CoachEngine, data_dir: Path, texts: list[str]) -> FakeTelegram:
    telegram = FakeTelegram()
    runner = web.AppRunner(telegram.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    telegram.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    limiter = RateLimiter(per_minute=10_000, per_day=10_000)
    bot = BotProcess(telegram, engine, data_dir, limiter=limiter)
    await bot.start()
    try:
        # One user per message: long texts from one chat would rightly be joined into one.
        for user, text in enumerate(texts, start=1):
            telegram.user_sends(text, user_id=user)
        await telegram.wait_for_messages(len(texts), timeout=60)
        await asyncio.sleep(0.3)
    finally:
        await bot.stop()
        await runner.cleanup()
    return telegram


@fuzz(5)
@given(texts=st.lists(telegram_text, min_size=MESSAGES_PER_EXAMPLE, max_size=MESSAGES_PER_EXAMPLE))
def test_every_message_gets_one_valid_answer(engine, tmp_path_factory, texts):
    data_dir = tmp_path_factory.mktemp("fuzz-bot")
    telegram = asyncio.run(send_all(engine, data_dir, texts))
    assert telegram.rejected == [], "every text the bot sent was valid Telegram HTML"
    answers = Counter(int(message["chat_id"]) for message in telegram.sent)
    assert set(answers) == set(range(1, len(texts) + 1)), "each message was answered"
    assert all(count == 1 for count in answers.values()), "and answered once"
    detector = LanguageDetector()
    for message in telegram.sent:
        if "<pre>" in message["text"]:
            reply = html.unescape(message["text"].split("<pre>")[1].split("</pre>")[0])
            assert detector.detect(reply) in SUPPORTED
