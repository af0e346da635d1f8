"""Running for real: webhooks behind a proxy, conversation state shared through Redis by
replicas, and the database the bot keeps."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import fakeredis
from aiogram.fsm.storage.redis import RedisStorage

from bot.config import load_settings
from bot.telegram.app import build_fsm_storage, run_webhook
from tests.telegram.conftest import BotProcess

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
