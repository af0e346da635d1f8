"""/check: the seller's own reply, coached against the playbook (and rewritten when we know the
review it answers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.filters import Command, StateFilter

from bot.telegram.drafting import typing_indicator
from bot.telegram.filters import HasText
from bot.telegram.render import plain, render_report, split_message
from bot.telegram.states import CheckReply

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.fsm.context import FSMContext
    from aiogram.types import Message

    from bot.desk import CoachingDesk
    from bot.telegram.texts import Texts
    from bot.telegram.workload import Workload


async def start_check(message: Message, texts: Texts, state: FSMContext) -> None:
    await state.set_state(CheckReply.waiting)
    await state.set_data({})
    language = message.from_user.language_code if message.from_user else None
    await message.answer(plain(texts.get(language, "check_prompt")))


async def check_reply(
    message: Message,
    bot: Bot,
    desk: CoachingDesk,
    texts: Texts,
    state: FSMContext,
    *,
    workload: Workload,
) -> None:
    if message.from_user is None:
        return
    draft_id = (await state.get_data()).get("draft")
    async with typing_indicator(bot, message.chat.id, workload):
        report = await desk.check(message.from_user.id, message.text or "", draft_id)
    # Cleared only once checked: a reply that could not be read can simply be sent again.
    await state.clear()
    for part in split_message(render_report(report, texts, message.from_user.language_code)):
        await message.answer(part)


def build_router() -> Router:
    router = Router(name="checking")
    router.message.register(start_check, Command("check"))
    router.message.register(
        check_reply, StateFilter(CheckReply.waiting), HasText(), flags={"drafts": True}
    )
    return router
