"""What a seller does after the first draft: the buttons, /profile, /check, /forget, and a
restart of the bot in between."""

from __future__ import annotations

import asyncio
import html
import sqlite3

from bot.telegram.app import DATABASE_FILE
from bot.telegram.texts import Texts
from tests.fake_telegram import FakeTelegram

REVIEW = "Ordered a ceramic mug three weeks ago, it arrived broken and nobody answers my e-mails."
EN = Texts()


def label(*keys: str) -> str:
    value = EN.get("en", keys[0])
    for key in keys[1:]:
        value = value[key]
    return value


def public_reply(message: dict) -> str:
    return html.unescape(message["text"].split("<pre>")[1].split("</pre>")[0])


async def next_messages(telegram: FakeTelegram, count: int = 1) -> list[dict]:
    """The next ``count`` messages the bot sends from now on."""
    start = len(telegram.sent)
    await telegram.wait_for_messages(start + count)
    return telegram.sent[start : start + count]


async def first_draft(telegram: FakeTelegram, review: str = REVIEW, user_id: int = 42) -> dict:
    telegram.user_sends(review, user_id=user_id)
    (draft,) = await next_messages(telegram)
    assert "<pre>" in draft["text"]
    return draft


async def press(
    telegram: FakeTelegram, message: dict, button: str, count: int = 1, user_id: int = 42
) -> list[dict]:
    telegram.user_presses(FakeTelegram.buttons(message)[button], user_id=user_id)
    return await next_messages(telegram, count)


async def test_a_draft_comes_with_all_seven_buttons(running_bot):
    draft = await first_draft(running_bot)
    assert list(FakeTelegram.buttons(draft)) == list(label("buttons").values())
    assert all(len(data.encode()) <= 64 for data in FakeTelegram.buttons(draft).values())


async def test_another_version_shorter_warmer_and_more_formal_each_give_a_new_draft(running_bot):
    draft = await first_draft(running_bot)
    original = public_reply(draft)
    buttons = label("buttons")
    replies = {}
    for action in ("another", "shorter", "warmer", "formal"):
        (new,) = await press(running_bot, draft, buttons[action])
        replies[action] = public_reply(new)
        assert FakeTelegram.buttons(new), "a new draft has its own buttons"
    assert len({original, *replies.values()}) == 5
    assert len(replies["shorter"].split()) < len(original.split())
    assert len(running_bot.callback_answers) == 4, "every press is answered (no endless spinner)"


async def test_private_message_and_sources_buttons_show_this_drafts_parts(running_bot):
    draft = await first_draft(running_bot)
    (private,) = await press(running_bot, draft, label("buttons", "private"))
    assert label("private_title") in private["text"]
    private_text = private["text"].split("<pre>")[1].split("</pre>")[0]
    assert private_text in draft["text"]
    (sources,) = await press(running_bot, draft, label("buttons", "why"))
    assert label("sources_title") in sources["text"]
    assert ".txt" in sources["text"], "each note names its source article"


async def test_check_my_reply_coaches_a_blaming_reply_and_rewrites_it(running_bot):
    draft = await first_draft(running_bot)
    (prompt,) = await press(running_bot, draft, label("buttons", "check"))
    assert prompt["text"] == html.escape(label("check_prompt_draft"), quote=False)
    running_bot.user_sends("You obviously dropped it yourself. We pack everything carefully.")
    (report,) = await next_messages(running_bot)
    assert label("check_revise") in report["text"]
    assert "dropped it yourself" in report["text"]
    rewrite = public_reply(report)
    assert "yourself" not in rewrite
    running_bot.user_sends("My parcel never came.")  # the check is over: this is a review again
    (after,) = await next_messages(running_bot)
    assert FakeTelegram.buttons(after)


async def test_check_command_uses_the_latest_review_and_praises_a_good_reply(running_bot):
    running_bot.user_sends("/check")
    (prompt,) = await next_messages(running_bot)
    assert "Paste the reply" in prompt["text"]
    running_bot.user_sends(
        "I'm so sorry your mug arrived broken. I'll send a replacement today and write to you "
        "with the tracking number by Friday. Please message us privately with your order details."
    )
    (report,) = await next_messages(running_bot)
    assert report["text"] == f"<b>{html.escape(label('check_ok'), quote=False)}</b>"


async def test_profile_is_set_with_buttons_and_short_replies_and_used_in_drafts(running_bot):
    running_bot.user_sends("/profile")
    (card,) = await next_messages(running_bot)
    fields = label("profile", "fields")
    assert set(FakeTelegram.buttons(card)) == set(fields.values())
    (ask,) = await press(running_bot, card, fields["shop"])
    assert "shop" in ask["text"]
    running_bot.user_sends("Clay & Co")
    saved, shown = await next_messages(running_bot, 2)
    assert saved["text"] == label("profile", "saved")
    assert "Clay &amp; Co" in shown["text"]
    await press(running_bot, shown, fields["offers"])
    running_bot.user_sends("free gift wrapping, 10% off the next order")
    await next_messages(running_bot, 2)
    (choices,) = await press(running_bot, shown, fields["tone"])
    formal = label("profile", "choices", "tone", "formal")
    (formal_card,) = await press(running_bot, choices, formal)
    assert "Formal" in formal_card["text"]
    draft = await first_draft(running_bot)
    assert "Clay & Co" in public_reply(draft), "the shop signs the reply"
    assert "free gift wrapping" in draft["text"] or "10% off" in draft["text"]


async def test_a_profile_value_that_is_too_long_is_refused_and_nothing_changes(running_bot):
    running_bot.user_sends("/profile")
    (card,) = await next_messages(running_bot)
    await press(running_bot, card, label("profile", "fields", "signature"))
    running_bot.user_sends("x" * 200)
    (refusal,) = await next_messages(running_bot)
    assert "longer than 80 characters" in refusal["text"]
    running_bot.user_sends("Maria")  # still waiting for the signature: the state was kept
    _, shown = await next_messages(running_bot, 2)
    assert "Maria" in shown["text"]


async def test_buttons_keep_working_after_a_restart(bot_process):
    telegram = bot_process.telegram
    draft = await first_draft(telegram)
    await bot_process.restart()
    (new,) = await press(telegram, draft, label("buttons", "another"))
    assert public_reply(new) != public_reply(draft)
    (private,) = await press(telegram, draft, label("buttons", "private"))
    assert "<pre>" in private["text"]


async def test_nobody_can_use_another_users_draft_buttons(running_bot):
    draft = await first_draft(running_bot, user_id=42)
    data = FakeTelegram.buttons(draft)[label("buttons", "private")]
    running_bot.user_presses(data, user_id=43, chat_id=42)  # a forwarded message, say
    (refusal,) = await next_messages(running_bot)
    assert "<pre>" not in refusal["text"]
    assert "no longer here" in refusal["text"]
    running_bot.user_presses("d:private:not-a-real-id", user_id=42)
    (tampered,) = await next_messages(running_bot)
    assert "no longer here" in tampered["text"]
    running_bot.user_presses("zz:unknown", user_id=42)
    await asyncio.sleep(0.5)
    assert running_bot.callback_answers[-1]["text"] == label("button_gone")


async def test_forget_asks_first_then_deletes_everything(bot_process, isolated_env):
    telegram = bot_process.telegram
    telegram.user_sends("/profile")
    (card,) = await next_messages(telegram)
    await press(telegram, card, label("profile", "fields", "shop"))
    telegram.user_sends("Clay and Co")
    await next_messages(telegram, 2)
    draft = await first_draft(telegram)
    telegram.user_sends("/forget")
    (question,) = await next_messages(telegram)
    (kept,) = await press(telegram, question, label("forget", "no"))
    assert kept["text"] == label("forget", "kept")
    (done,) = await press(telegram, question, label("forget", "yes"))
    assert done["text"] == label("forget", "done")
    with sqlite3.connect(isolated_env / DATABASE_FILE) as database:
        for table in ("profiles", "drafts", "usage"):
            rows = database.execute(f"SELECT count(*) FROM {table} WHERE user_id = 42").fetchone()
            assert rows == (0,), table
    (gone,) = await press(telegram, draft, label("buttons", "another"))
    assert "no longer here" in gone["text"]


async def test_a_photo_caption_and_a_forwarded_review_are_drafted(running_bot):
    photo = [{"file_id": "p", "file_unique_id": "q", "width": 10, "height": 10}]
    running_bot.user_sends(None, photo=photo, caption="The colour is nothing like the photo.")
    (from_caption,) = await next_messages(running_bot)
    assert "<pre>" in from_caption["text"]
    origin = {"type": "hidden_user", "sender_user_name": "A buyer", "date": 1700000000}
    running_bot.user_sends("Never arrived. Never again.", forward_origin=origin)
    (forwarded,) = await next_messages(running_bot)
    assert "<pre>" in forwarded["text"]


async def test_an_unknown_command_gets_a_hint_not_a_draft(running_bot):
    running_bot.user_sends("/refund_everyone")
    (hint,) = await next_messages(running_bot)
    assert hint["text"] == html.escape(label("unknown_command"), quote=False)
