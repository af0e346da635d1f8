"""A review in, a draft out, and the buttons under it.

Handlers translate: they read the update, call the desk, and render. Failures are not caught
here: a CoachError carries a sentence for the seller and the dispatcher's one error handler
sends it.
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.chat_action import ChatActionSender

from bot.desk import UNSAVED
from bot.engine.service import ReplyPiece
from bot.telegram.filters import HasTextOrCaption
from bot.telegram.keyboards import DRAFTING_ACTIONS, DraftAction, draft_keyboard
from bot.telegram.render import (
    MESSAGE_LIMIT,
    plain,
    render_draft,
    render_private,
    render_sources,
    split_message,
)
from bot.telegram.states import CheckReply

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.fsm.context import FSMContext
    from aiogram.types import CallbackQuery, Message

    from bot.desk import CoachingDesk
    from bot.storage.database import StoredDraft
    from bot.telegram.joiner import ReviewJoiner
    from bot.telegram.texts import Texts
    from bot.telegram.workload import Workload

logger = logging.getLogger(__name__)

# Telegram animates drafts, but each update is a request: a few per second reads as live typing
# without running into flood control.
PREVIEW_INTERVAL = 0.4
# A draft that comes within a second needs no sign of life; past that the seller sees "typing".
# Sent at once, the action was a Bot API call for every review, mostly for offline drafts that
# were answered before it showed, and a burst of LLM drafts paid for 200 of them before the
# last review's model call could leave.
TYPING_AFTER = 1.0


def typing_indicator(
    bot: Bot, chat_id: int, workload: Workload
) -> AbstractAsyncContextManager[object]:
    """'typing…' in the chat while a slow answer is made, from TYPING_AFTER on; like the live
    preview, only while the bot is not busy. In a burst every draft would send its action in
    the same second, a Bot API call each (Telegram counts them against its limits) at the very
    moment the drafts themselves are waiting to be sent."""
    if not workload.quiet:
        return nullcontext()
    return ChatActionSender.typing(chat_id=chat_id, bot=bot, initial_sleep=TYPING_AFTER)


class DraftPreview:
    """Shows the public reply growing, with sendMessageDraft (Bot API 9.3+), throttled. Stops
    quietly if the server does not offer it (an older self-hosted Bot API)."""

    def __init__(self, bot: Bot, chat_id: int, draft_id: int, heading: str) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.draft_id = draft_id
        self.heading = heading
        self.text = ""
        self.shown_at = 0.0
        self.working = True

    async def add(self, piece: str) -> None:
        self.text += piece
        if self.working and time.monotonic() - self.shown_at >= PREVIEW_INTERVAL:
            await self.show()

    async def show(self) -> None:
        body = plain(self.text[-(MESSAGE_LIMIT - 200) :])
        try:
            await self.bot.send_message_draft(
                chat_id=self.chat_id,
                draft_id=self.draft_id,
                text=f"<b>{plain(self.heading)}</b>\n<pre>{body}</pre>",
            )
        except TelegramAPIError as error:
            logger.info("live preview off for this draft: %s", type(error).__name__)
            self.working = False
        self.shown_at = time.monotonic()


async def send_draft(
    bot: Bot, chat_id: int, stored: StoredDraft, texts: Texts, language: str | None
) -> None:
    """The draft, split if it must be, with the buttons under its last part."""
    html = render_draft(stored.draft, texts, language)
    if stored.id == UNSAVED:
        html += f"\n\n<i>{plain(texts.get(language, 'buttons_unavailable'))}</i>"
    parts = split_message(html)
    for part in parts[:-1]:
        await bot.send_message(chat_id, part)
    keyboard = draft_keyboard(stored.id, texts, language) if stored.id != UNSAVED else None
    await bot.send_message(chat_id, parts[-1], reply_markup=keyboard)


async def review(
    message: Message,
    bot: Bot,
    desk: CoachingDesk,
    texts: Texts,
    joiner: ReviewJoiner,
    *,
    workload: Workload,
) -> None:
    """Any text (or a caption) is a review: draft a reply and show it."""
    if message.from_user is None:
        return
    language = message.from_user.language_code
    text = await joiner.collect(message.chat.id, message.text or message.caption or "")
    if text is None:
        return  # a continuation of a long review: its first part answers for the whole
    async with typing_indicator(bot, message.chat.id, workload):
        if desk.streams and workload.quiet:
            heading = texts.get(language, "public_reply")
            preview = DraftPreview(bot, message.chat.id, message.message_id, heading)
            async for item in desk.stream_draft(message.from_user.id, text):
                if isinstance(item, ReplyPiece):
                    await preview.add(item.text)
                else:
                    stored = item
        else:
            stored = await desk.draft(message.from_user.id, text)
    await send_draft(bot, message.chat.id, stored, texts, language)


async def vary(
    callback: CallbackQuery,
    callback_data: DraftAction,
    bot: Bot,
    desk: CoachingDesk,
    texts: Texts,
    *,
    workload: Workload,
) -> None:
    """Another version, shorter, warmer, more formal: a new draft below, the old one stays."""
    await callback.answer()
    chat_id = _chat_id(callback)
    async with typing_indicator(bot, chat_id, workload):
        stored = await desk.vary(callback.from_user.id, callback_data.draft, callback_data.action)  # type: ignore[arg-type]
    await send_draft(bot, chat_id, stored, texts, callback.from_user.language_code)


# The parts of a stored draft a button shows on its own.
PART_RENDERERS = {"private": render_private, "why": render_sources}


async def show_part(
    callback: CallbackQuery, callback_data: DraftAction, bot: Bot, desk: CoachingDesk, texts: Texts
) -> None:
    """Private message (ready to copy) or Why (the sources), for the draft under the button."""
    stored = await desk.stored(callback.from_user.id, callback_data.draft)
    await callback.answer()
    render = PART_RENDERERS[callback_data.action]
    html = render(stored.draft, texts, callback.from_user.language_code)
    for part in split_message(html):
        await bot.send_message(_chat_id(callback), part)


async def check_this(
    callback: CallbackQuery,
    *,
    callback_data: DraftAction,
    bot: Bot,
    desk: CoachingDesk,
    texts: Texts,
    state: FSMContext,
) -> None:
    """The next message is the seller's own reply to this draft's review."""
    stored = await desk.stored(callback.from_user.id, callback_data.draft)
    await callback.answer()
    await state.set_state(CheckReply.waiting)
    await state.update_data(draft=stored.id)
    language = callback.from_user.language_code
    await bot.send_message(_chat_id(callback), plain(texts.get(language, "check_prompt_draft")))


def _chat_id(callback: CallbackQuery) -> int:
    # The message under the button may be too old to be sent back to us; the private chat with
    # a user has the user's id.
    return callback.message.chat.id if callback.message else callback.from_user.id


def build_router() -> Router:
    router = Router(name="drafting")
    router.message.register(review, HasTextOrCaption(), flags={"drafts": True})
    router.callback_query.register(
        vary, DraftAction.filter(F.action.in_(DRAFTING_ACTIONS)), flags={"drafts": True}
    )
    router.callback_query.register(show_part, DraftAction.filter(F.action.in_(PART_RENDERERS)))
    router.callback_query.register(check_this, DraftAction.filter(F.action == "check"))
    return router
