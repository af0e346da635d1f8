"""Telegram's flood control and its bad moments: when it says "retry after N seconds", wait and
send again; when it answers 5xx or the connection drops, back off briefly and send again."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod

logger = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    """Retries a bounded number of times; the longest flood wait is capped so one user's flood
    never stalls the bot for long. getUpdates is left to aiogram's polling loop, which has its
    own backoff.

    A send whose answer was lost after Telegram accepted it would arrive twice; a seller seeing
    a draft twice is better than never seeing it, and a lost answer is the rare case (a refused
    connection or a 5xx means nothing was sent)."""

    def __init__(self, attempts: int = 3, longest_wait: float = 30.0, backoff: float = 0.5):
        self.attempts = attempts
        self.longest_wait = longest_wait
        self.backoff = backoff

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if last or error.retry_after > self.longest_wait:
                    raise
                wait = float(error.retry_after)
                reason = "flood control"
            except (TelegramServerError, TelegramNetworkError) as error:
                if last or isinstance(method, GetUpdates):
                    raise
                wait = self.backoff * 2**attempt
                reason = type(error).__name__
            logger.warning("%s on %s: retrying in %s s", reason, type(method).__name__, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")
