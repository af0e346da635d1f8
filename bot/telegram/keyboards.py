"""Inline keyboards and the callback data behind them.

A button carries only a short action and a stored id (Telegram allows 64 bytes); what the button
needs is read from the database, so buttons keep working after a restart, and an id is only
honoured for the user it belongs to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

if TYPE_CHECKING:
    from bot.telegram.texts import Texts

# Buttons under a draft, in the order shown; each label is texts["buttons"][action].
DRAFT_ACTIONS = ("another", "shorter", "warmer", "formal", "private", "why", "check")
# Actions that make a new draft, and so count against the user's rate limit.
DRAFTING_ACTIONS = frozenset({"another", "shorter", "warmer", "formal"})

PLATFORMS = ("google", "etsy", "amazon", "facebook", "own_shop", "other")
TONES = ("friendly", "warm", "formal")
# Profile fields typed as a short reply, and the ones picked from buttons.
TYPED_FIELDS = ("shop", "signature", "offers")
CHOSEN_FIELDS = {"platform": PLATFORMS, "tone": TONES}


class DraftAction(CallbackData, prefix="d"):
    action: str
    draft: str


class ProfileAction(CallbackData, prefix="p"):
    field: str
    value: str = ""


def draft_keyboard(draft_id: str, texts: Texts, language: str | None) -> InlineKeyboardMarkup:
    """Built directly, not with InlineKeyboardBuilder: every draft gets one, and the builder
    costs seven times as much."""
    labels = texts.get(language, "buttons")
    buttons = [
        InlineKeyboardButton(
            text=labels[action], callback_data=DraftAction(action=action, draft=draft_id).pack()
        )
        for action in DRAFT_ACTIONS
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[0:2], buttons[2:4], buttons[4:7]])


def profile_keyboard(texts: Texts, language: str | None) -> InlineKeyboardMarkup:
    labels = texts.get(language, "profile")["fields"]
    builder = InlineKeyboardBuilder()
    for field in (*TYPED_FIELDS, *CHOSEN_FIELDS):
        builder.button(text=labels[field], callback_data=ProfileAction(field=field))
    builder.adjust(2)
    return builder.as_markup()


def choice_keyboard(field: str, texts: Texts, language: str | None) -> InlineKeyboardMarkup:
    labels = texts.get(language, "profile")["choices"][field]
    builder = InlineKeyboardBuilder()
    for value in CHOSEN_FIELDS[field]:
        builder.button(text=labels[value], callback_data=ProfileAction(field=field, value=value))
    builder.adjust(3)
    return builder.as_markup()
