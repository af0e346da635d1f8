"""Who may do what: the allowlist for every kind of update, and per-user limits that hold under
a burst of concurrent messages and button presses."""

from __future__ import annotations

import asyncio

import pytest

from bot.telegram.access import RateLimiter
from bot.telegram.texts import Texts
from tests.fake_telegram import FakeTelegram
from tests.telegram.conftest import BotProcess

REVIEW = "My parcel never arrived and nobody answers my e-mails."
NOT_ALLOWED = Texts().get("en", "not_allowed")


@pytest.fixture
async def private_bot(telegram, engine, isolated_env):
    """Open to user 42 only; at most 5 drafts a minute."""
    limiter = RateLimiter(per_minute=5, per_day=100)
    process = BotProcess(telegram, engine, isolated_env, allowed_users=[42], limiter=limiter)
    await process.start()
    yield telegram
    await process.stop()


async def test_a_stranger_gets_nothing_from_messages_captions_commands_or_buttons(private_bot):
    private_bot.user_sends(REVIEW, user_id=42)
    (draft,) = await private_bot.wait_for_messages(1)
    stranger = 7
    private_bot.user_sends(REVIEW, user_id=stranger)
    private_bot.user_sends("/profile", user_id=stranger)
    photo = [{"file_id": "p", "file_unique_id": "q", "width": 1, "height": 1}]
    private_bot.user_sends(None, user_id=stranger, photo=photo, caption=REVIEW)
    # A button under the owner's draft, pressed by a stranger it was forwarded to.
    for data in FakeTelegram.buttons(draft).values():
        private_bot.user_presses(data, user_id=stranger, chat_id=42)
    await private_bot.wait_for_messages(4)
    await asyncio.sleep(0.5)
    to_stranger = [m for m in private_bot.sent if int(m["chat_id"]) == stranger]
    assert [m["text"] for m in to_stranger] == [NOT_ALLOWED] * 3
    assert len(private_bot.sent) == 4, "nothing else was sent anywhere"
    alerts = [answer for answer in private_bot.callback_answers if answer.get("show_alert")]
    assert len(alerts) == 7
    assert all(answer["text"] == NOT_ALLOWED for answer in alerts)


async def test_a_burst_of_reviews_and_presses_cannot_exceed_the_limit(private_bot):
    private_bot.user_sends(REVIEW, user_id=42)
    (draft,) = await private_bot.wait_for_messages(1)
    another = FakeTelegram.buttons(draft)["🔁 Another version"]
    for number in range(12):
        private_bot.user_sends(f"{REVIEW} ({number})", user_id=42)
        private_bot.user_presses(another, user_id=42)
    await private_bot.wait_for_messages(1 + 12)  # every message gets a draft or a refusal
    await asyncio.sleep(1.0)
    drafts = [m for m in private_bot.sent if "<pre>" in m["text"]]
    assert len(drafts) == 5, "the first review and four more: five a minute"
    refused_presses = [a for a in private_bot.callback_answers if a.get("show_alert")]
    refused_messages = [m for m in private_bot.sent if "one minute" in m["text"]]
    assert len(refused_presses) + len(refused_messages) == 24 + 1 - 5
