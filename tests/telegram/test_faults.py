"""Faults, each injected with its expected outcome: Telegram failing, the database locked or
deleted, the knowledge index damaged. The bot keeps answering; no review is answered twice or
dropped."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from chromadb.api.client import SharedSystemClient

from bot.engine.service import CoachEngine
from knowledge.embeddings import HashEmbedder, make_embedder
from knowledge.retrieval import open_knowledge_base
from tests.fake_telegram import FakeTelegram
from tests.telegram.conftest import BotProcess

REVIEW = "My parcel never arrived and nobody answers my e-mails."


def drafts_per_chat(telegram: FakeTelegram) -> Counter[int]:
    return Counter(int(m["chat_id"]) for m in telegram.sent if "<pre>" in m["text"])


async def answered_once_each(telegram: FakeTelegram, users: range) -> None:
    for user in users:
        telegram.user_sends(f"{REVIEW} Order {user}.", user_id=user)
    await telegram.wait_for_messages(len(users), timeout=30)
    await asyncio.sleep(0.5)  # time for a duplicate to show up, if there were one
    assert drafts_per_chat(telegram) == Counter(dict.fromkeys(users, 1))


async def test_a_5xx_on_sending_is_retried_and_the_draft_arrives_once(running_bot):
    running_bot.failing_sends = 1
    await answered_once_each(running_bot, range(1, 2))


async def test_connection_resets_while_polling_and_sending_lose_nothing(running_bot):
    running_bot.reset_polls = 2
    running_bot.reset_sends = 2
    await answered_once_each(running_bot, range(1, 6))


async def test_slow_telegram_answers_hold_nobody_up_and_nothing_doubles(running_bot):
    running_bot.send_delay = 1.0
    await answered_once_each(running_bot, range(1, 11))


async def test_flood_control_on_many_sends_still_answers_everyone_once(running_bot):
    running_bot.flood_sends = 3
    await answered_once_each(running_bot, range(1, 5))


@pytest.fixture
async def quick_giving_up_bot(telegram, engine, isolated_env):
    process = BotProcess(telegram, engine, isolated_env, busy_timeout_ms=200)
    await process.start()
    yield process
    await process.stop()


async def test_a_locked_database_still_gets_the_seller_a_draft(quick_giving_up_bot, caplog):
    caplog.set_level(logging.INFO)
    telegram = quick_giving_up_bot.telegram
    telegram.user_sends(REVIEW)
    (first,) = await telegram.wait_for_messages(1)
    locker = sqlite3.connect(quick_giving_up_bot.database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        telegram.user_sends("The mug I got is cracked.")
        sent = await telegram.wait_for_messages(2)
        assert "<pre>" in sent[1]["text"]
        assert not FakeTelegram.buttons(sent[1]), "no buttons for a draft that was not kept"
        assert "could not store it" in sent[1]["text"]
        assert "database: could not keep this draft" in caplog.text
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    telegram.user_presses(FakeTelegram.buttons(first)["✉️ Private message"])
    sent = await telegram.wait_for_messages(3)
    assert "<pre>" in sent[2]["text"], "once the lock is gone, older buttons work again"


async def test_a_database_deleted_while_running_is_started_anew(bot_process, caplog):
    caplog.set_level(logging.INFO)
    telegram = bot_process.telegram
    telegram.user_sends(REVIEW)
    await telegram.wait_for_messages(1)
    for suffix in ("", "-wal", "-shm"):
        bot_process.database.with_name(bot_process.database.name + suffix).unlink(missing_ok=True)
    telegram.user_sends("The mug I got is cracked.")
    (_, second) = await telegram.wait_for_messages(2)
    assert "was deleted while running" in caplog.text
    telegram.user_presses(FakeTelegram.buttons(second)["✂️ Shorter"])
    sent = await telegram.wait_for_messages(3)
    assert "<pre>" in sent[2]["text"]
    assert bot_process.database.exists()


class IndexBackedHash(HashEmbedder):
    """Hash embeddings treated like e5's or OpenAI's: searched through the index on disk, not
    computed in memory at start (what those backends do, at hash's speed)."""

    quick = False


def damage(index: Path) -> None:
    for path in index.rglob("*"):
        if path.is_file():
            path.write_bytes(b"not a database" * 64)


async def test_a_damaged_knowledge_index_is_rebuilt_and_the_review_answered(
    telegram, engine, isolated_env, tmp_path, caplog
):
    caplog.set_level(logging.INFO)
    index = tmp_path / "own-index"
    running = CoachEngine(open_knowledge_base(index, IndexBackedHash()), engine.packs)
    process = BotProcess(telegram, running, isolated_env)
    await process.start()
    try:
        telegram.user_sends(REVIEW)
        await telegram.wait_for_messages(1)
        damage(index)
        telegram.user_sends("The mug I got is cracked.")
        sent = await telegram.wait_for_messages(2)
        assert "<pre>" in sent[1]["text"], "the running bot answers from the cards in memory"
        await process.stop()
        SharedSystemClient.clear_system_cache()  # what a new process starts with
        process.engine = CoachEngine(open_knowledge_base(index, IndexBackedHash()), engine.packs)
        await process.start()  # the next start finds the damage
        telegram.user_sends("The lamp came without its shade.")
        sent = await telegram.wait_for_messages(3)
        assert "<pre>" in sent[2]["text"]
        assert "rebuilding the knowledge index" in caplog.text
    finally:
        await process.stop()
        shutil.rmtree(index, ignore_errors=True)


async def test_with_hash_embeddings_a_damaged_index_never_stands_between_a_seller_and_a_draft(
    telegram, engine, isolated_env, tmp_path
):
    """The default embeddings search the cards in memory, computed at start; the index on disk
    serves `kb search` and the seller's own documents (which `kb rebuild` repairs)."""
    index = tmp_path / "own-index"
    index.mkdir()
    (index / "chroma.sqlite3").write_bytes(b"not a database" * 64)
    for attempt in range(2):  # and again after a restart
        process = BotProcess(
            telegram,
            CoachEngine(open_knowledge_base(index, make_embedder("hash")), engine.packs),
            isolated_env,
        )
        await process.start()
        try:
            telegram.user_sends("The mug I got is cracked.")
            sent = await telegram.wait_for_messages(attempt + 1)
            assert "<pre>" in sent[attempt]["text"]
        finally:
            await process.stop()
    assert (index / "chroma.sqlite3").read_bytes().startswith(b"not a database")
