"""The bot's conversation, assembled: commands, the profile, /check, drafting, and the
fallbacks. Each part lives in its own module; this one only orders them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.filters import Command, CommandStart

from bot.telegram import checking, drafting, profile
from bot.telegram.filters import LooksLikeCommand, PrivateChat
from bot.telegram.render import plain

if TYPE_CHECKING:
    from aiogram.fsm.context import FSMContext
    from aiogram.types import CallbackQuery, Message

    from bot.telegram.texts import Texts


async def start(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.get(_language(message), "start")))


async def help_(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.get(_language(message), "help")))


async def cancel(message: Message, texts: Texts, state: FSMContext) -> None:
    await state.clear()
    await message.answer(plain(texts.get(_language(message), "cancelled")))


async def unknown_command(message: Message, texts: Texts) -> None:
    await message.answer(plain(texts.get(_language(message), "unknown_command")))


async def not_text(message: Message, texts: Texts) -> None:
    """Stickers, voice, video, polls, locations: a friendly hint."""
    await message.answer(plain(texts.get(_language(message), "not_text")))


async def stale_button(callback: CallbackQuery, texts: Texts) -> None:
    """A button we no longer understand (an old layout, or tampered data)."""
    language = callback.from_user.language_code
    await callback.answer(texts.get(language, "button_gone"), show_alert=True)


def _language(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None


def build_router() -> Router:
    """A new tree of routers each time: a router can belong to one dispatcher only.

    Order matters: a router's own handlers are tried before the routers it includes, and those
    in the order included. Commands come first, then the conversations that expect a reply,
    then unknown commands (before drafting would take them for a review), then drafting, then
    the fallbacks. Only private chats: in a group every message would look like a review.
    """
    commands = Router(name="commands")
    commands.message.register(start, CommandStart())
    commands.message.register(help_, Command("help"))
    commands.message.register(cancel, Command("cancel"))
    unknown = Router(name="unknown-commands")
    unknown.message.register(unknown_command, LooksLikeCommand())
    fallbacks = Router(name="fallbacks")
    fallbacks.message.register(not_text)
    fallbacks.callback_query.register(stale_button)
    root = Router(name="coach")
    root.message.filter(PrivateChat())
    root.include_routers(
        commands,
        profile.build_router(),
        checking.build_router(),
        unknown,
        drafting.build_router(),
        fallbacks,
    )
    return root
