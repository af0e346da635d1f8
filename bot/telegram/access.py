"""Who may use the bot, and how often: the allowlist and per-user rate limits.

An outer middleware, so it holds for every update type before any handler runs. Limits keep an
open bot from burning its owner's LLM budget.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, Update

from bot.telegram.render import plain

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from aiogram.types import TelegramObject

    from bot.telegram.texts import Texts

MINUTE = 60.0
DAY = 86_400.0


class RateLimiter:
    """Sliding windows per user. Checks and records in one step with no await in between, so
    concurrent updates of one user cannot slip past the limit together."""

    def __init__(self, per_minute: int, per_day: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.per_day = per_day
        self.clock = clock
        self._seen: defaultdict[int, deque[float]] = defaultdict(deque)

    def allow(self, user_id: int) -> str | None:
        """None if this request may go ahead (and it is counted); else which limit was hit."""
        now = self.clock()
        seen = self._seen[user_id]
        while seen and now - seen[0] >= DAY:
            seen.popleft()
        if len(seen) >= self.per_day:
            return "day"
        if sum(1 for moment in seen if now - moment < MINUTE) >= self.per_minute:
            return "minute"
        seen.append(now)
        return None


class AllowlistMiddleware(BaseMiddleware):
    """Outer, on every update: when the owner lists allowed users, nobody else gets anything,
    whatever the update type (a button on a message forwarded to them included)."""

    def __init__(self, allowed_users: Iterable[int]) -> None:
        self.allowed = set(allowed_users)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not self.allowed:
            return await handler(event, data)
        user = data.get("event_from_user")
        if user is not None and user.id in self.allowed:
            return await handler(event, data)
        if user is not None:
            texts: Texts = data["texts"]
            inner = event.event if isinstance(event, Update) else event
            await _refuse(inner, texts.get(user.language_code, "not_allowed"))
        return None


class RateLimitMiddleware(BaseMiddleware):
    """Inner, on messages and button presses: only handlers flagged ``drafts`` (they make a draft
    or a check, which may cost an LLM call) count against the user's limits."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if user is None or not get_flag(data, "drafts"):
            return await handler(event, data)
        limit = self.limiter.allow(user.id)
        if limit is None:
            return await handler(event, data)
        texts: Texts = data["texts"]
        await _refuse(event, texts.get(user.language_code, f"limit_{limit}"))
        return None


async def _refuse(event: TelegramObject, sentence: str) -> None:
    if isinstance(event, Message):
        await event.answer(plain(sentence))
    elif isinstance(event, CallbackQuery):
        await event.answer(sentence, show_alert=True)
