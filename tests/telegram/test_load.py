"""What keeps a burst of reviews from queueing: work aiogram would do again and again, or hand
to a worker thread, on every update. `bench/bot.py` measures the burst itself."""

from __future__ import annotations

import gc
import weakref

from aiogram import Dispatcher
from aiogram.methods import Response, SendMessage

from bot.telegram.handlers import build_router


def test_no_filter_of_the_bot_runs_in_a_worker_thread():
    """aiogram runs a filter that is not a coroutine (``F.text``, a bare ``State``) through
    ``asyncio.to_thread`` each time it is tried; a review passes several on its way."""
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router())
    threaded = [
        f"{router.name}: {filter_object.magic or filter_object.callback!r}"
        for router in dispatcher.chain_tail
        for observer in router.observers.values()
        # A router's own filters (``router.message.filter(...)``) sit on the observer's handler.
        for handler in [observer._handler, *observer.handlers]
        for filter_object in handler.filters or []
        if not filter_object.awaitable
    ]
    assert threaded == []


async def test_the_model_telegrams_answers_are_read_with_outlives_garbage_collection(running_bot):
    """pydantic caches ``Response[Message]`` weakly; rebuilt after each collection, it cost
    4 ms of CPU per message sent."""
    running_bot.user_sends("The mug arrived broken and nobody answers my emails.")
    await running_bot.wait_for_messages(1)
    model = weakref.ref(Response[SendMessage.__returning__])
    gc.collect()
    assert model() is not None
