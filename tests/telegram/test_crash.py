"""The real process, killed with SIGKILL in the middle of drafting and started again: the profile
and the stored drafts are intact, old buttons work, and the review in flight is answered once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import KNOWN_SECRETS, REPO
from tests.fake_openai import FakeOpenAI, ServerThread
from tests.fake_telegram import FakeTelegram
from tests.test_llm import GOOD


@pytest.fixture
def slow_model():
    """A model that takes 1.5 s to answer: long enough to kill the bot while it waits."""

    async def respond(body: dict) -> dict:
        return GOOD

    server = FakeOpenAI(responder=respond, latency=1.5)
    thread = ServerThread(server)
    thread.start()
    yield server
    thread.stop()


async def start_bot(
    telegram: FakeTelegram, model: FakeOpenAI, log: Path
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE": telegram.api_base,
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": model.base_url,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stderr=log.open("ab")
    )


async def until(condition, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_sigkill_mid_draft_then_restart_keeps_everything(telegram, slow_model, tmp_path):
    log = tmp_path / "bot.log"
    bot = await start_bot(telegram, slow_model, log)
    try:
        telegram.user_sends("/profile")
        (card,) = await telegram.wait_for_messages(1, timeout=30)
        telegram.user_presses(FakeTelegram.buttons(card)["Shop name"])
        await telegram.wait_for_messages(2)
        telegram.user_sends("Clay and Co")
        await telegram.wait_for_messages(4)
        telegram.user_sends("My mug arrived smashed and nobody answers my messages.")
        await telegram.wait_for_messages(5, timeout=30)
        draft = telegram.sent[4]
        assert "<pre>" in draft["text"]
        requests_before = len(slow_model.requests)
        telegram.user_sends("The lamp arrived without its shade.")
        await until(lambda: len(slow_model.requests) > requests_before)  # drafting now
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        assert len(telegram.sent) == 5, "killed before the second draft was sent"

        bot = await start_bot(telegram, slow_model, log)
        await telegram.wait_for_messages(6, timeout=30)  # the review in flight, answered now
        telegram.user_presses(FakeTelegram.buttons(draft)["✉️ Private message"])
        await telegram.wait_for_messages(7)
        telegram.user_sends("/profile")
        await telegram.wait_for_messages(8)
        texts = [message["text"] for message in telegram.sent[5:8]]
        assert sum("<pre>" in text and "Public reply" in text for text in texts) == 1
        assert any("Private message (ready to copy)" in text for text in texts)
        assert any("Clay and Co" in text for text in texts), "the profile survived"
        logged = log.read_text("utf-8", errors="replace")
        assert "left unanswered" in logged
        assert not any(secret in logged for secret in KNOWN_SECRETS)
        assert "lamp" not in logged, "no review text at the default log level"
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
