"""Conversation states: what the next message from the user means."""

from aiogram.fsm.state import State, StatesGroup


class CheckReply(StatesGroup):
    """The next text is the seller's own reply, to be coached (state data may name a draft)."""

    waiting = State()


class ProfileEdit(StatesGroup):
    """The next text is the value of a profile field (state data names the field)."""

    waiting = State()
