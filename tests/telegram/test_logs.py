"""What the logs hold at the default level: update ids and error types, never the review, the
customer's personal data or a secret."""

from __future__ import annotations

import asyncio
import logging

from tests.fake_telegram import FakeTelegram

REVIEW = (
    "Jane Roe here, jane.roe@example.com, +44 7700 900123. My order #558812 arrived smashed "
    "and you ignore me."
)


async def test_a_whole_session_leaves_no_review_text_personal_data_or_token_in_the_logs(
    running_bot, caplog
):
    caplog.set_level(logging.INFO)
    running_bot.user_sends(REVIEW)
    (draft,) = await running_bot.wait_for_messages(1)
    running_bot.user_presses(FakeTelegram.buttons(draft)["✂️ Shorter"])
    running_bot.user_sends("🙂")  # an error path: no words
    running_bot.user_presses("d:another:forged-id")  # and another
    await running_bot.wait_for_messages(4)
    # aiohttp.access is the fake server's own request log (in this process), not the bot's.
    logged = "\n".join(
        record.getMessage() for record in caplog.records if record.name != "aiohttp.access"
    )
    assert "is handled" in logged, "the bot does log its updates"
    secret_part = running_bot.token.split(":")[1]
    for leaked in ("jane.roe", "7700 900123", "558812", "smashed", "Jane Roe", secret_part):
        assert leaked not in logged


async def test_a_failed_send_is_logged_with_the_update_id_and_the_bot_carries_on(
    running_bot, caplog
):
    caplog.set_level(logging.INFO)
    running_bot.failing_sends = 6  # the draft and the apology for it, each tried three times
    running_bot.user_sends("My parcel never came and nobody answers.")
    for _ in range(100):
        bot_lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
        if any("could not tell the user" in line for line in bot_lines):
            break
        await asyncio.sleep(0.05)
    assert "update 1 failed: TelegramServerError" in bot_lines
    assert "update 1: could not tell the user: TelegramServerError" in bot_lines
    assert "never came" not in caplog.text
    running_bot.user_sends("Still no parcel.")
    (draft,) = await running_bot.wait_for_messages(1)
    assert "<pre>" in draft["text"]
