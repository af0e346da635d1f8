"""Joining a review that Telegram delivered in several messages.

Telegram splits a pasted text longer than 4,096 characters into consecutive messages sent within
a moment. When a long part arrives, we wait briefly for its continuation and draft once, for the
whole review.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

# A part this long may have been cut by Telegram; shorter messages are whole reviews.
LONG_PART = 3500
WINDOW_SECONDS = 1.5


@dataclass
class _Pending:
    parts: list[str]
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class ReviewJoiner:
    def __init__(self, window: float = WINDOW_SECONDS, long_part: int = LONG_PART) -> None:
        self.window = window
        self.long_part = long_part
        self._pending: dict[int, _Pending] = {}

    async def collect(self, chat_id: int, text: str) -> str | None:
        """The whole review to draft now, or None when this message continued a pending one
        (whose first message will draft it)."""
        pending = self._pending.get(chat_id)
        if pending is not None:
            pending.parts.append(text)
            pending.arrived.set()
            return None
        if len(text) < self.long_part:
            return text
        pending = self._pending[chat_id] = _Pending([text])
        try:
            while True:
                try:
                    await asyncio.wait_for(pending.arrived.wait(), self.window)
                except TimeoutError:
                    break
                pending.arrived.clear()
        finally:
            del self._pending[chat_id]
        return "\n".join(pending.parts)
