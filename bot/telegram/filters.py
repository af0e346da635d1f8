"""The message filters, as coroutines.

aiogram awaits a `Filter` in place but runs anything else it is given as a filter (a magic
filter such as `F.text`, a bare `State`) in a worker thread, on every update it is tried on. A
review passes five such checks before it reaches its handler; under a burst of reviews each hop
waits for the event loop to hand over the GIL, and the drafts come late (`bench/bot.py`).
"""

from __future__ import annotations

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import Message


class PrivateChat(Filter):
    """Only private chats: in a group every message would look like a review."""

    async def __call__(self, message: Message) -> bool:
        return message.chat.type == ChatType.PRIVATE


class HasText(Filter):
    async def __call__(self, message: Message) -> bool:
        return bool(message.text)


class HasTextOrCaption(Filter):
    """A review pasted as text, or sent as a photo or document with a caption."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text or message.caption)


class LooksLikeCommand(Filter):
    async def __call__(self, message: Message) -> bool:
        return bool(message.text and message.text.startswith("/"))
