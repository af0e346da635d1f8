"""The bot's HTTP session to the Bot API, with its request middlewares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import Response

from bot.telegram.flood import RetryMiddleware

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod


def build_session(api_base: str | None = None) -> AiohttpSession:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else AiohttpSession()
    )
    session.middleware(ResponseModelKeeper())
    session.middleware(RetryMiddleware())
    return session


class ResponseModelKeeper(BaseRequestMiddleware):
    """Keeps alive the pydantic model aiogram reads each answer with (``Response[Message]``
    for sendMessage, and so on).

    pydantic caches such parametrised models only weakly, and nothing else holds them, so the
    garbage collector drops them within moments and the next answer builds its model again:
    1 to 5 ms of CPU each time (`Response[Message]` 4 ms), several times a second under a burst
    of reviews. One reference per method the bot has called keeps them built.
    """

    def __init__(self) -> None:
        self._kept: dict[type[TelegramMethod[Any]], type[Response[Any]]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        kind = type(method)
        if kind not in self._kept:
            self._kept[kind] = Response[method.__returning__]
        return await make_request(bot, method)
