"""Nothing in flight is lost: each message or button press is kept in the database until it has
been answered, and what a crash or a restart left unanswered is handled again.

Telegram considers an update delivered as soon as the next poll begins, which aiogram starts
while handlers are still running (and a webhook call is answered before its update is handled);
without this, a restart during a slow LLM draft would drop the review silently.

Long polling has one process per bot (Telegram refuses a second poller), so whatever is held at
start was left by the last run, and is handled again at once. Webhook replicas share the
database: what is held may be in the hands of a replica that is alive and drafting, so an update
is taken over only when it has been held past a lease no draft outlasts, by whichever replica
sweeps first.
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

# With replicas: how long an update may be held before another replica takes it over. Far
# beyond any draft (the LLM's whole budget, COACH_LLM_TIMEOUT, is 30 s by default, and flood
# control waits are seconds): an update taken over while still being drafted is answered twice.
REPLICA_LEASE_SECONDS = 300.0


class Inbox(BaseMiddleware):
    """``lease_seconds``: None for the only process of a bot (long polling); for replicas, the
    lease after which a held update is taken to be abandoned."""

    def __init__(self, storage: Storage, lease_seconds: float | None = None) -> None:
        self.storage = storage
        self.lease_seconds = lease_seconds
        self._redelivered: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweeping: asyncio.Task[None] | None = None

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
        """At start: handle again what was left unanswered (in the background, so the bot
        starts at once). The only process: everything held. A replica: what has been held past
        the lease, now and then every quarter of it."""
        if self.lease_seconds is None:
            self._feed(bot, dispatcher, await self.storage.held())
        else:
            self._sweeping = asyncio.create_task(self._sweep(bot, dispatcher, self.lease_seconds))

    async def stop(self) -> None:
        """At shutdown: no more sweeps."""
        if self._sweeping is not None:
            self._sweeping.cancel()
            with suppress(asyncio.CancelledError):
                await self._sweeping

    async def _sweep(self, bot: Bot, dispatcher: Dispatcher, lease_seconds: float) -> None:
        while True:
            with suppress(StorageError):  # logged by the storage; the next sweep tries again
                self._feed(bot, dispatcher, await self.storage.claim_abandoned(lease_seconds))
            await asyncio.sleep(lease_seconds / 4)

    def _feed(self, bot: Bot, dispatcher: Dispatcher, payloads: list[str]) -> None:
        for payload in payloads:
            update = Update.model_validate_json(payload, context={"bot": bot})
            logger.info("update %s: answering what was left unanswered", update.update_id)
            self._redelivered.add(update.update_id)
            task = asyncio.create_task(dispatcher.feed_update(bot, update, redelivery=True))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
