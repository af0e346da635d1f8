"""Nothing in flight is lost: each message or button press is kept in the database until it has
been answered, and what a crash or a restart left unanswered is handled again on start.

Telegram considers an update delivered as soon as the next poll begins, which aiogram starts
while handlers are still running; without this, a restart during a slow LLM draft would drop
the review silently.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import Update

from bot.storage.database import StorageError
from bot.telegram.render import plain

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram import Bot, Dispatcher
    from aiogram.types import TelegramObject

    from bot.storage.database import Storage
    from bot.telegram.texts import Texts

logger = logging.getLogger(__name__)

# An update tried this often without an answer is taken to be what stops the bot; it is
# dropped (and the user told) rather than tried on every start forever.
MAX_ATTEMPTS = 2


class Inbox(BaseMiddleware):
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._redelivered: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if not isinstance(event, Update) or user is None:
            return await handler(event, data)
        if event.update_id in self._redelivered and not data.get("redelivery"):
            return None  # Telegram sent again what this process is already handling
        try:
            attempts = await self.storage.hold(
                event.update_id, user.id, event.model_dump_json(exclude_none=True)
            )
        except StorageError:
            return await handler(event, data)  # no safety net today; answer all the same
        if attempts > MAX_ATTEMPTS:
            logger.warning("update %s: dropped after %s attempts", event.update_id, MAX_ATTEMPTS)
            await self._release(event.update_id)
            texts: Texts = data["texts"]
            await data["bot"].send_message(user.id, plain(texts.get(user.language_code, "gave_up")))
            return None
        try:
            return await handler(event, data)
        finally:
            await self._release(event.update_id)

    async def _release(self, update_id: int) -> None:
        with suppress(StorageError):  # logged by the storage; the worst case is a repeat
            await self.storage.release(update_id)

    async def redeliver(self, bot: Bot, dispatcher: Dispatcher) -> None:
        """At start: handle again what the last run left unanswered (in the background, so the
        bot starts polling at once)."""
        for payload in await self.storage.held():
            update = Update.model_validate_json(payload, context={"bot": bot})
            logger.info("update %s: answering what the last run left unanswered", update.update_id)
            self._redelivered.add(update.update_id)
            task = asyncio.create_task(dispatcher.feed_update(bot, update, redelivery=True))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
