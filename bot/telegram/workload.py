"""How busy this process is: the updates it is handling right now.

A live preview of an LLM draft is a luxury for a quiet moment. Reading a streamed answer costs
about ten times the CPU of a whole one (an object per chunk in the client libraries), so when
many updates are waiting, every seller gets their draft sooner without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram.types import TelegramObject

# Updates in progress beyond which new drafts are not streamed.
STREAMING_LIMIT = 8


class Workload(BaseMiddleware):
    """Outer, before anything that waits: counts updates from the moment they arrive. A batch
    that long polling delivers is counted whole before the first of its drafts decides whether
    to stream, since nothing in between gives way to the event loop. Handlers get it as
    workflow data, like every other dependency."""

    def __init__(self) -> None:
        self.in_progress = 0

    @property
    def quiet(self) -> bool:
        return self.in_progress <= STREAMING_LIMIT

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.in_progress += 1
        try:
            return await handler(event, data)
        finally:
            self.in_progress -= 1
