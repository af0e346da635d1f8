"""/profile: the seller's shop name, sign-off, allowed goodwill offers, platform and tone, set
with inline buttons and short replies; and /forget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.errors import InputError
from bot.telegram.filters import HasText
from bot.telegram.keyboards import (
    CHOSEN_FIELDS,
    TYPED_FIELDS,
    ProfileAction,
    choice_keyboard,
    profile_keyboard,
)
from bot.telegram.render import plain, render_profile
from bot.telegram.states import ProfileEdit

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.fsm.context import FSMContext
    from aiogram.types import CallbackQuery, Message, User

    from bot.desk import CoachingDesk
    from bot.engine.models import SellerProfile
    from bot.telegram.texts import Texts

# Typed values are short by nature; a pasted essay is a mistake, not a shop name.
LONGEST_VALUE = 80
MOST_OFFERS = 5
CLEAR = "-"


async def show_profile(message: Message, bot: Bot, desk: CoachingDesk, texts: Texts) -> None:
    if message.from_user is None:
        return
    user = message.from_user
    await _send_profile(bot, user, await desk.profile(user.id), texts)


async def _send_profile(bot: Bot, user: User, profile: SellerProfile, texts: Texts) -> None:
    """The profile card with its buttons, in the user's private chat."""
    await bot.send_message(
        user.id,
        render_profile(profile, texts, user.language_code),
        reply_markup=profile_keyboard(texts, user.language_code),
    )


async def ask_for_value(
    callback: CallbackQuery,
    callback_data: ProfileAction,
    bot: Bot,
    texts: Texts,
    state: FSMContext,
) -> None:
    """A typed field: the next message is its value."""
    await callback.answer()
    await state.set_state(ProfileEdit.waiting)
    await state.update_data(field=callback_data.field)
    words = texts.get(callback.from_user.language_code, "profile")
    await bot.send_message(callback.from_user.id, plain(words["ask"][callback_data.field]))


async def offer_choices(
    callback: CallbackQuery, callback_data: ProfileAction, bot: Bot, texts: Texts
) -> None:
    await callback.answer()
    language = callback.from_user.language_code
    words = texts.get(language, "profile")
    await bot.send_message(
        callback.from_user.id,
        plain(words["ask"][callback_data.field]),
        reply_markup=choice_keyboard(callback_data.field, texts, language),
    )


async def save_choice(
    callback: CallbackQuery,
    callback_data: ProfileAction,
    bot: Bot,
    desk: CoachingDesk,
    texts: Texts,
) -> None:
    user = callback.from_user
    if callback_data.value not in CHOSEN_FIELDS[callback_data.field]:
        await callback.answer(texts.get(user.language_code, "button_gone"), show_alert=True)
        return
    profile = await desk.update_profile(user.id, **{callback_data.field: callback_data.value})
    await callback.answer(texts.get(user.language_code, "profile")["saved"])
    await _send_profile(bot, user, profile, texts)


async def save_typed_value(
    message: Message, bot: Bot, desk: CoachingDesk, texts: Texts, state: FSMContext
) -> None:
    if message.from_user is None:
        return
    field = (await state.get_data()).get("field")
    if field not in TYPED_FIELDS:
        await state.clear()
        return
    value = typed_value(field, message.text or "")
    profile = await desk.update_profile(message.from_user.id, **{field: value})
    await state.clear()
    await message.answer(plain(texts.get(message.from_user.language_code, "profile")["saved"]))
    await _send_profile(bot, message.from_user, profile, texts)


def typed_value(field: str, text: str) -> str | list[str] | None:
    """What the seller typed, as the profile stores it; "-" clears the field."""
    text = text.strip()
    if text == CLEAR:
        return [] if field == "offers" else None
    if field == "offers":
        offers = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
        if len(offers) > MOST_OFFERS or any(len(offer) > LONGEST_VALUE for offer in offers):
            raise InputError(
                f"Up to {MOST_OFFERS} offers of at most {LONGEST_VALUE} characters each, "
                "separated by commas. Send it again, or /cancel."
            )
        return offers
    if len(text) > LONGEST_VALUE:
        raise InputError(
            f"That is longer than {LONGEST_VALUE} characters. Send a shorter one, or /cancel."
        )
    return text


async def forget(message: Message, texts: Texts) -> None:
    """Asks first: deleting a profile by a stray tap would be unkind."""
    if message.from_user is None:
        return
    words = texts.get(message.from_user.language_code, "forget")
    builder = InlineKeyboardBuilder()
    builder.button(text=words["yes"], callback_data=ProfileAction(field="forget", value="yes"))
    builder.button(text=words["no"], callback_data=ProfileAction(field="forget", value="no"))
    await message.answer(plain(words["confirm"]), reply_markup=builder.as_markup())


async def confirm_forget(
    callback: CallbackQuery,
    *,
    callback_data: ProfileAction,
    bot: Bot,
    desk: CoachingDesk,
    texts: Texts,
    state: FSMContext,
) -> None:
    words = texts.get(callback.from_user.language_code, "forget")
    if callback_data.value == "yes":
        await desk.forget(callback.from_user.id)
        await state.clear()
        done = words["done"]
    else:
        done = words["kept"]
    await callback.answer()
    await bot.send_message(callback.from_user.id, plain(done))


def build_router() -> Router:
    router = Router(name="profile")
    router.message.register(show_profile, Command("profile"))
    router.message.register(forget, Command("forget"))
    router.message.register(save_typed_value, StateFilter(ProfileEdit.waiting), HasText())
    router.callback_query.register(
        ask_for_value, ProfileAction.filter(F.field.in_(TYPED_FIELDS) & ~F.value)
    )
    router.callback_query.register(
        offer_choices, ProfileAction.filter(F.field.in_(CHOSEN_FIELDS.keys()) & ~F.value)
    )
    router.callback_query.register(
        save_choice, ProfileAction.filter(F.field.in_(CHOSEN_FIELDS.keys()) & F.value)
    )
    router.callback_query.register(confirm_forget, ProfileAction.filter(F.field == "forget"))
    return router
