"""Running for real: webhooks behind a proxy, conversation state shared through Redis by
replicas, and the database the bot keeps."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import TYPE_CHECKING

import aiohttp
import fakeredis
from aiogram.fsm.storage.redis import RedisStorage

from bot.config import load_settings
from bot.storage.database import Storage
from bot.telegram.app import DATABASE_FILE, build_fsm_storage, run_webhook
from tests.telegram.conftest import BotProcess

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SECRET = "webhook-secret-for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def update(text: str, update_id: int = 1) -> dict:
    user = {"id": 42, "is_bot": False, "first_name": "Seller", "language_code": "en"}
    message = {
        "message_id": 5,
        "date": 1700000000,
        "chat": {"id": 42, "type": "private"},
        "from": user,
        "text": text,
    }
    return {"update_id": update_id, "message": message}


async def test_webhook_mode_registers_its_url_and_answers_updates_posted_to_it(
    telegram, engine, monkeypatch
):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", telegram.token)
    monkeypatch.setenv("TELEGRAM_API_BASE", telegram.api_base)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    port = free_port()
    url = "https://coach.example.org/telegram/hook"
    server = asyncio.create_task(run_webhook(load_settings(None), engine, url, f"127.0.0.1:{port}"))
    try:
        while telegram.webhook is None:
            await asyncio.sleep(0.05)
        assert telegram.webhook["url"] == url
        assert telegram.webhook["secret_token"] == SECRET
        endpoint = f"http://127.0.0.1:{port}/telegram/hook"
        async with aiohttp.ClientSession() as client:
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            async with client.post(endpoint, json=update("Hi"), headers=wrong) as response:
                assert response.status == 401
            right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            body = update("My parcel never arrived and nobody answers.", 2)
            async with client.post(endpoint, json=body, headers=right) as response:
                assert response.status == 200
        (draft,) = await telegram.wait_for_messages(1)
        assert "<pre>" in draft["text"]
        assert "getUpdates" not in telegram.calls
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)


async def test_with_redis_a_conversation_continues_on_another_replica(
    telegram, engine, isolated_env
):
    shared = fakeredis.FakeServer()

    def replica() -> BotProcess:
        storage = RedisStorage(redis=fakeredis.FakeAsyncRedis(server=shared))
        return BotProcess(telegram, engine, isolated_env, fsm_storage=storage)

    first = replica()
    await first.start()
    telegram.user_sends("/check")
    await telegram.wait_for_messages(1)
    await first.stop()
    second = replica()  # the reply reaches another process
    await second.start()
    try:
        telegram.user_sends("You clearly broke it yourself, stop lying.")
        sent = await telegram.wait_for_messages(2)
        assert "A few things to change" in sent[1]["text"]
    finally:
        await second.stop()


def test_redis_is_used_only_when_configured():
    assert type(build_fsm_storage(None)).__name__ == "MemoryStorage"
    assert isinstance(build_fsm_storage("redis://127.0.0.1:1/0"), RedisStorage)


async def hold_as_another_replica(isolated_env, text: str, update_id: int) -> None:
    """What a replica's inbox writes when an update reaches it, before it drafts."""
    storage = await Storage.open(isolated_env / DATABASE_FILE)
    try:
        await storage.hold(update_id, 42, json.dumps(update(text, update_id)))
    finally:
        await storage.close()


@contextlib.asynccontextmanager
async def replicas(
    telegram, engine, isolated_env, lease: float, count: int = 1
) -> AsyncIterator[list[BotProcess]]:
    """``count`` bot processes sharing one database, as webhook replicas do."""
    started = [
        BotProcess(telegram, engine, isolated_env, replica_lease=lease) for _ in range(count)
    ]
    await asyncio.gather(*(replica.start() for replica in started))
    try:
        yield started
    finally:
        await asyncio.gather(*(replica.stop() for replica in started))


async def test_a_replica_leaves_alone_what_another_is_drafting_and_takes_over_when_abandoned(
    telegram, engine, isolated_env
):
    # Another replica took this review a moment ago and is drafting it (or has crashed).
    await hold_as_another_replica(isolated_env, "The parcel came broken, nobody answers.", 7)
    lease = 1.0
    async with replicas(telegram, engine, isolated_env, lease):
        await asyncio.sleep(lease * 0.6)  # it sweeps every quarter of the lease meanwhile
        assert telegram.sent == [], "a review another replica may still be drafting was answered"
        (draft,) = await telegram.wait_for_messages(1)  # the lease ran out: it was abandoned
        assert "<pre>" in draft["text"]
        await asyncio.sleep(lease)  # later sweeps find nothing: it was answered and released
        assert len(telegram.sent) == 1


async def test_of_two_replicas_sweeping_at_once_only_one_answers_an_abandoned_review(
    telegram, engine, isolated_env
):
    await hold_as_another_replica(isolated_env, "Wrong size sent twice, I want my money back.", 8)
    lease = 0.4
    await asyncio.sleep(lease)  # abandoned before either replica starts
    async with replicas(telegram, engine, isolated_env, lease, count=2):
        await telegram.wait_for_messages(1)
        await asyncio.sleep(lease * 2)
        assert len(telegram.sent) == 1, "an abandoned review was answered by both replicas"
