"""The bot end to end: aiogram, unmodified, polling a fake Bot API on 127.0.0.1, with its own
database in the test's data directory."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from bot.desk import CoachingDesk
from bot.storage.database import Storage
from bot.telegram.app import DATABASE_FILE, build_bot, build_dispatcher
from bot.telegram.texts import Texts
from tests.conftest import KNOWN_SECRETS
from tests.fake_telegram import FakeTelegram

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from bot.engine.service import CoachEngine


class BotProcess:
    """One run of the bot against the fake: start, stop, and start again on the same database
    (what a restart of the real process does)."""

    def __init__(
        self,
        telegram: FakeTelegram,
        engine: CoachEngine,
        data_dir: Path,
        *,
        busy_timeout_ms: int = 5000,
        **options: Any,
    ) -> None:
        self.telegram = telegram
        self.engine = engine
        self.database = data_dir / DATABASE_FILE
        self.busy_timeout_ms = busy_timeout_ms
        self.options = options
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.storage = await Storage.open(self.database, self.busy_timeout_ms)
        self.bot = build_bot(self.telegram.token, self.telegram.api_base)
        self.dispatcher = build_dispatcher(
            CoachingDesk(self.engine, self.storage), Texts(), **self.options
        )
        self._task = asyncio.create_task(
            self.dispatcher.start_polling(self.bot, handle_signals=False, polling_timeout=1)
        )

    async def stop(self) -> None:
        await self.dispatcher.stop_polling()
        if self._task is not None:
            await asyncio.wait_for(self._task, timeout=10)
        await self.storage.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    # A long poll left open by a killed bot would otherwise hold the cleanup for its timeout.
    runner = web.AppRunner(fake.app(), shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake
    await runner.cleanup()
    # Every text the bot sent was valid for Telegram, in every test, and gave away no secret.
    assert fake.rejected == []
    sent = [str(item.get("text", "")) for item in fake.sent + fake.drafts + fake.edits]
    sent += [str(answer.get("text", "")) for answer in fake.callback_answers]
    assert not [secret for secret in KNOWN_SECRETS for text in sent if secret in text]


@pytest.fixture
async def bot_process(telegram, engine, isolated_env) -> AsyncIterator[BotProcess]:
    process = BotProcess(telegram, engine, isolated_env)
    await process.start()
    yield process
    await process.stop()


@pytest.fixture
async def running_bot(bot_process) -> FakeTelegram:
    return bot_process.telegram
