"""The bot's database and the desk over it: what a seller expects to find again, and to have
gone after /forget. No Telegram here: the desk is plain Python."""

from __future__ import annotations

import sqlite3

import pytest

from bot.desk import CoachingDesk, DraftNotFoundError
from bot.engine.models import SellerProfile
from bot.errors import InputError
from bot.storage.database import KEEP_DRAFTS, Storage, StorageError, migrations

REVIEW = "The lamp arrived with a cracked shade and the seller ignores me."


@pytest.fixture
async def storage(tmp_path):
    opened = await Storage.open(tmp_path / "bot.sqlite3")
    yield opened
    await opened.close()


@pytest.fixture
def desk(engine, storage) -> CoachingDesk:
    return CoachingDesk(engine, storage)


async def test_a_new_database_gets_every_migration_and_write_ahead_logging(tmp_path, storage):
    assert await storage.schema_version() == migrations()[-1][0]
    with sqlite3.connect(tmp_path / "bot.sqlite3") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert {"profiles", "drafts", "usage"} <= tables


async def test_profiles_and_drafts_survive_closing_and_reopening(tmp_path, desk, storage):
    await desk.update_profile(7, shop="Clay & Co", offers=["free gift wrapping"])
    stored = await desk.draft(7, REVIEW)
    await storage.close()
    reopened = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        assert (await reopened.profile(7)).shop == "Clay & Co"
        again = await reopened.draft(stored.id, 7)
        assert again is not None
        assert again.draft.public_reply == stored.draft.public_reply
        assert again.review == REVIEW
    finally:
        await reopened.close()


async def test_a_draft_is_found_only_by_its_owner(desk):
    stored = await desk.draft(1, REVIEW)
    assert (await desk.stored(1, stored.id)).id == stored.id
    with pytest.raises(DraftNotFoundError):
        await desk.stored(2, stored.id)
    with pytest.raises(DraftNotFoundError):
        await desk.vary(2, stored.id, "another")


async def test_variations_change_what_was_asked_and_keep_the_review(desk):
    first = await desk.draft(1, REVIEW)
    shorter = await desk.vary(1, first.id, "shorter")
    assert shorter.profile.length == "short"
    assert shorter.review == REVIEW
    formal = await desk.vary(1, shorter.id, "formal")
    assert (formal.profile.tone, formal.profile.length) == ("formal", "short")
    again = await desk.vary(1, formal.id, "formal")  # already formal: another formal version
    assert again.variant == formal.variant + 1
    assert again.draft.public_reply != formal.draft.public_reply


async def test_the_seller_profile_shapes_the_draft(desk):
    await desk.update_profile(3, signature="Maria, Clay & Co", offers=["free gift wrapping"])
    stored = await desk.draft(3, REVIEW)
    assert "Maria, Clay & Co" in stored.draft.public_reply
    assert "free gift wrapping" in stored.draft.private_message


async def test_a_bad_profile_value_is_refused_and_the_old_one_kept(desk):
    await desk.update_profile(4, tone="warm")
    with pytest.raises(InputError):
        await desk.update_profile(4, tone="sarcastic")
    assert (await desk.profile(4)).tone == "warm"


async def test_only_the_latest_drafts_are_kept(desk, storage):
    profile = SellerProfile()
    first = await desk.draft(5, REVIEW)
    kept = [
        await storage.save_draft(5, REVIEW, 0, profile, first.draft) for _ in range(KEEP_DRAFTS)
    ]
    assert await storage.draft(first.id, 5) is None
    # Exactly the latest KEEP_DRAFTS remain: the oldest of them still opens.
    assert await storage.draft(kept[0].id, 5) is not None
    other_user = await storage.save_draft(6, REVIEW, 0, profile, first.draft)
    assert await storage.draft(kept[0].id, 5) is not None, "another user's draft trimmed this one"
    assert await storage.draft(other_user.id, 6) is not None


async def test_usage_is_counted_per_day(desk, storage):
    await desk.draft(6, REVIEW)
    await desk.check(6, "Sorry! We'll send a new one today. Message us privately.")
    usage = await storage.usage_today(6)
    assert (usage.drafts, usage.checks, usage.llm_calls) == (1, 1, 0)


async def test_check_rewrites_against_the_latest_review(desk):
    await desk.draft(8, REVIEW)
    report = await desk.check(8, "You must have broken it yourself.")
    assert report.verdict == "revise"
    assert report.rewrite


async def test_forget_removes_every_row_of_the_user_and_only_theirs(tmp_path, desk):
    await desk.update_profile(9, shop="Mine")
    await desk.draft(9, REVIEW)
    await desk.update_profile(10, shop="Theirs")
    await desk.forget(9)
    with sqlite3.connect(tmp_path / "bot.sqlite3") as raw:
        for table in ("profiles", "drafts", "usage"):
            count = raw.execute(f"SELECT count(*) FROM {table} WHERE user_id = 9").fetchone()
            assert count == (0,), table
    assert (await desk.profile(10)).shop == "Theirs"


async def test_an_unreadable_database_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="could not open the database"):
        await Storage.open(path)
