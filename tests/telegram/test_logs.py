"""What the logs hold at the default level: update ids and error types, never the review, the
customer's personal data or a secret."""

from __future__ import annotations

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
