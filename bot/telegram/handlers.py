"""The bot's conversation: thin handlers that call the engine and render what it returns."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.utils.chat_action import ChatActionSender

from bot.errors import CoachError
from bot.telegram.render import plain, render_draft, split_message

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.types import Message

    from bot.engine.service import CoachEngine
    from bot.telegram.joiner import ReviewJoiner
    from bot.telegram.texts import Texts

logger = logging.getLogger(__name__)


async def start(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.get(_language(message), "start")))


async def help_(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.get(_language(message), "help")))


async def review(
    message: Message, bot: Bot, engine: CoachEngine, texts: Texts, joiner: ReviewJoiner
) -> None:
    """Any text (or a caption) is a review: draft a reply and show it."""
    language = _language(message)
    text = await joiner.collect(message.chat.id, message.text or message.caption or "")
    if text is None:
        return  # a continuation of a long review: its first part answers for the whole
    user = str(message.from_user.id) if message.from_user else "unknown"
    async with ChatActionSender.typing(chat_id=message.chat.id, bot=bot):
        try:
            draft = await engine.draft(text, user=user)
        except CoachError as error:
            # A clear sentence for the seller (empty review, too long...), never a traceback.
            await message.answer(plain(str(error)))
            return
    for part in split_message(render_draft(draft, texts, language)):
        await message.answer(part)


async def not_text(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.get(_language(message), "not_text")))


def _language(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None


def build_router() -> Router:
    """A new router each time: a router can belong to one dispatcher only."""
    router = Router(name="coach")
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(review, F.text | F.caption)
    router.message.register(not_text)
    return router
